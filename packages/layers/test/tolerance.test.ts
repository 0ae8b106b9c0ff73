import type { NormalizationSpec } from '@bnlab/core';
import { useBackend } from './support/backends.js';
import { checkCase, loadFixture } from './support/fixtures.js';
import { firstMismatch } from './support/tolerance.js';

// The PyTorch comparisons are only worth something if they fail on the mistakes that matter.
// Each check below runs a fixture case with one convention deliberately wrong.
describe('the reference tolerance catches convention slips', () => {
  beforeAll(() => useBackend('cpu'));
  const batch = loadFixture('batch_norm.json');
  const byName = (part: string) => batch.find((c) => c.name.includes(part))!;

  test('it passes the right convention', () => {
    expect(() => checkCase(byName('epsilon 1e-5'))).not.toThrow();
  });

  test('epsilon 1e-3 instead of the case’s 1e-5', () => {
    const c = byName('epsilon 1e-5');
    expect(() => checkCase({ ...c, spec: { ...c.spec, epsilon: 1e-3 } as NormalizationSpec })).toThrow(/output/);
  });

  test('momentum as PyTorch means it (0.1) instead of Keras’s 0.9', () => {
    const c = byName('epsilon 1e-5');
    expect(() => checkCase({ ...c, spec: { ...c.spec, momentum: 0.1 } as NormalizationSpec })).toThrow(/moving_mean after the steps/);
  });

  test('ghost batches of the wrong size', () => {
    const c = byName('ghost batches of 4');
    expect(() => checkCase({ ...c, spec: { ...c.spec, virtualBatchSize: 2 } as NormalizationSpec })).toThrow(/output/);
  });

  test('an unbiased (n − 1) variance in place of the biased one', () => {
    const c = byName('2-D, one training step');
    const n = c.inputShape[0]!;
    // Outputs normalized with the unbiased variance are the biased ones times sqrt((n-1)/n)
    // (up to epsilon); the comparison must reject them.
    const [beta, gamma] = [c.weights['beta']!, c.weights['gamma']!];
    const channels = gamma.length;
    const slipped = c.steps[0]!.y.map((y, i) => {
      const k = i % channels;
      return (y - beta[k]!) * Math.sqrt((n - 1) / n) + beta[k]!;
    });
    expect(firstMismatch(slipped, c.steps[0]!.y)).not.toBeNull();
  });

  test('a 2e-4 relative error on every element', () => {
    const y = byName('2-D, one training step').steps[0]!.y;
    expect(
      firstMismatch(
        y.map((v) => v * (1 + 2e-4)),
        y,
      ),
    ).not.toBeNull();
    expect(
      firstMismatch(
        y.map((v) => v * (1 + 5e-5)),
        y,
      ),
    ).toBeNull();
  });
});
