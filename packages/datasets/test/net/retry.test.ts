import { resolveRetryOptions, RETRY_DEFAULTS } from '../../src/net/retry.js';

describe('resolveRetryOptions', () => {
  it('takes the default of an option given as undefined, and checks the others', () => {
    expect(resolveRetryOptions({ retries: undefined, backoffMs: undefined, idleTimeoutMs: undefined })).toEqual(RETRY_DEFAULTS);
    expect(resolveRetryOptions({ retries: 0, idleTimeoutMs: undefined })).toEqual({ ...RETRY_DEFAULTS, retries: 0 });
    expect(() => resolveRetryOptions({ retries: -1 })).toThrow('retries must be a non-negative integer, got -1');
  });
});
