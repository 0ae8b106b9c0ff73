import { formatMeanCI, resultsTable } from '../../src/report/results';
import { meanCI } from '../../src/stats/summary';
import { syntheticRecord } from '../helpers/records';

const T2 = 4.302652729749462; // t(0.975, 2)

test('results table: one row per variant, mean ± t·sd/√n of each run’s final value', () => {
  const runs = [0, 1, 2].flatMap((s) => [
    syntheticRecord({ runId: `bn-${s}`, seed: s, config: { variant: 'BN', seed: s } }),
    syntheticRecord({ runId: `none-${s}`, seed: 10 + s, config: { variant: 'none', seed: s }, diverge: s === 2 ? 50 : undefined }),
  ]);
  const t = resultsTable(runs);
  expect(t.rows.map((r) => [r.group, r.runs, r.diverged])).toEqual([
    ['BN', 3, 0],
    ['none', 3, 1],
  ]);
  expect(t.columns.map((c) => c.label)).toEqual([
    'Final test accuracy',
    'Final validation accuracy',
    'Best validation accuracy',
    'Final test loss',
    'Final training loss',
    'Seconds per epoch',
  ]);
  const acc = runs.filter((r) => r.config.variant === 'BN').map((r) => r.epochs[r.epochs.length - 1]!.testAccuracy!);
  const mean = (acc[0]! + acc[1]! + acc[2]!) / 3;
  const sd = Math.sqrt(acc.reduce((s, x) => s + (x - mean) ** 2, 0) / 2);
  expect(t.rows[0]!.cells[0]!.mean).toBeCloseTo(mean, 12);
  expect(t.rows[0]!.cells[0]!.halfWidth).toBeCloseTo((T2 * sd) / Math.sqrt(3), 12);
  // The diverged run's NaN test loss is left out (n = 2), its collapsed accuracy counts (n = 3).
  expect(t.rows[1]!.cells[3]!.n).toBe(2);
  expect(t.rows[1]!.cells[0]!.n).toBe(3);
  // Best validation accuracy is the max over epochs.
  const best = runs.filter((r) => r.config.variant === 'BN').map((r) => Math.max(...r.epochs.map((e) => e.valAccuracy!)));
  expect(t.rows[0]!.cells[2]!.mean).toBeCloseTo((best[0]! + best[1]! + best[2]!) / 3, 12);
});

test('formatting: percent with two decimals, losses to the interval’s precision', () => {
  expect(formatMeanCI(meanCI([0.9787, 0.9785, 0.9788, 0.9774]), true)).toBe('97.84 ± 0.10 %');
  expect(formatMeanCI(meanCI([0.0712]), false)).toBe('0.07120');
  expect(formatMeanCI(meanCI([0.9781]), true)).toBe('97.81 %');
  expect(formatMeanCI(meanCI([1, 2, 3, 4, 5]), false)).toBe('3.0 ± 2.0');
  expect(formatMeanCI(meanCI([0.071, 0.073, 0.072]), false)).toBe('0.0720 ± 0.0025');
  expect(formatMeanCI(meanCI([NaN]), false)).toBe('—');
});
