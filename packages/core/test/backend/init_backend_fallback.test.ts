import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { isBnlabError } from '../../src/errors.js';

// A separate test file (own module registry): the wasm module can only be loaded once per
// process, so this file makes it fail to load by pointing at a folder without binaries.
describe('initBackend when wasm cannot start', () => {
  const silence = jest.spyOn(console, 'warn').mockImplementation(() => {});
  afterAll(() => silence.mockRestore());

  it('throws BACKEND_UNAVAILABLE in strict mode', async () => {
    const err = await initBackend({ strict: true, wasmPaths: '/nonexistent/bnlab-wasm/' }).catch((e: unknown) => e);
    expect(isBnlabError(err, 'BACKEND_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/wasm backend could not start/);
  });

  it('falls back to cpu with a warning otherwise', async () => {
    const warnings: string[] = [];
    const info = await initBackend({ wasmPaths: '/nonexistent/bnlab-wasm/', onWarning: (m) => warnings.push(m) });
    expect(info.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/falling back to the slower cpu backend/);
  });
});
