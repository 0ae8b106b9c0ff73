import { BACKENDS, useBackend } from './support/backends.js';
import { checkCase, loadFixture } from './support/fixtures.js';

// Every combination of center × scale × training for each of the four layers (NHWC input,
// batch norm with non-trivial moving statistics), forward and backward, against PyTorch.
// tfjs's own BatchNormalization crashes in training with scale: false (tfjs issue 2868).
const cases = loadFixture('center_scale_training.json');

describe.each(BACKENDS)('center × scale × training on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  test('the fixture covers all 32 combinations', () => {
    const seen = new Set(cases.map((c) => `${c.spec.type} ${JSON.stringify(c.spec)} ${c.steps[0]!.training}`));
    expect(seen.size).toBe(32);
  });

  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => checkCase(c));
});
