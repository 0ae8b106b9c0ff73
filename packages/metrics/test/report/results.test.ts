import { formatMeanCI, formatResultCell, resultsTable } from '../../src/report/results';
import { buildReport } from '../../src/report/report';
import { meanCI } from '../../src/stats/summary';
import { syntheticRecord, valuesRecord } from '../helpers/records';

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
  // The diverged run counts with the values it reached: its last finite test loss (from the
  // epoch before the loss became NaN) and its collapsed accuracy (n = 3 both).
  expect(t.rows[1]!.leftOut).toBe(0);
  expect(t.rows[1]!.cells[3]!.n).toBe(3);
  const none2 = runs.find((r) => r.runId === 'none-2')!;
  expect(none2.epochs.map((e) => Number.isNaN(e.testLoss))).toEqual([false, true]);
  const losses = runs
    .filter((r) => r.config.variant === 'none')
    .map((r) => r.epochs.filter((e) => Number.isFinite(e.testLoss)).at(-1)!.testLoss!);
  expect(t.rows[1]!.cells[3]!.mean).toBeCloseTo((losses[0]! + losses[1]! + losses[2]!) / 3, 12);
  expect(t.rows[1]!.cells[0]!.n).toBe(3);
  // Best validation accuracy is the max over epochs.
  const best = runs.filter((r) => r.config.variant === 'BN').map((r) => Math.max(...r.epochs.map((e) => e.valAccuracy!)));
  expect(t.rows[0]!.cells[2]!.mean).toBeCloseTo((best[0]! + best[1]! + best[2]!) / 3, 12);
});

test('final values: a diverged run counts with the value it reached, failed and interrupted runs are left out', async () => {
  const runs = [
    valuesRecord('done', 'completed', [0.5, 0.9], { variant: 'A' }),
    valuesRecord('diverged', 'diverged', [0.5, NaN], { variant: 'A' }),
    valuesRecord('failed', 'failed', [0.1], { variant: 'A' }),
    valuesRecord('stopped', 'interrupted', [0.2, 0.3], { variant: 'A' }),
    valuesRecord('b', 'completed', [0.6, 0.8], { variant: 'B' }),
  ];
  const t = resultsTable(runs, { metrics: [{ metric: 'valAccuracy' }, { metric: 'valAccuracy', at: 'max' }] });
  const [a, b] = t.rows;
  expect([a!.runs, a!.diverged, a!.leftOut]).toEqual([4, 1, 2]);
  // Final: 0.9 (completed) and 0.5 (reached before diverging); nothing from 'failed' or 'stopped'.
  expect(a!.cells[0]!.n).toBe(2);
  expect(a!.cells[0]!.mean).toBeCloseTo(0.7, 12);
  expect(a!.cells[1]!.n).toBe(2);
  expect(a!.cells[1]!.mean).toBeCloseTo(0.7, 12);
  expect([b!.runs, b!.leftOut, b!.cells[0]!.n, b!.cells[0]!.mean]).toEqual([1, 0, 1, 0.8]);

  // Both report forms show the left-out count and the n of a mean over fewer runs than the row has.
  const aCell = `${formatMeanCI(a!.cells[0]!, true)} (n = 2)`;
  expect(formatResultCell(a!.cells[0]!, true, a!.runs)).toBe(aCell);
  expect(formatResultCell(b!.cells[0]!, true, b!.runs)).toBe('80.00 %');
  const { html, markdown } = await buildReport({ title: 'Final values', runs, metrics: [{ metric: 'valAccuracy' }], autoFigures: false });
  expect(markdown).toContain('| Variant | Runs | Diverged | Left out | Final validation accuracy |');
  expect(markdown).toContain(`| A | 4 | 1 | 2 | ${aCell} |`);
  expect(markdown).toContain('| B | 1 | 0 | 0 | 80.00 % |');
  expect(html).toContain('<th>Variant</th><th>Runs</th><th>Diverged</th><th>Left out</th><th>Final validation accuracy</th>');
  expect(html).toContain(
    `<th scope="row">A</th><td class="num">4</td><td class="num">1</td><td class="num">2</td><td class="num">${aCell}</td>`,
  );
  for (const text of [markdown, html.replace(/&#39;/g, "'")]) {
    expect(text).toContain('Diverged runs count with the values they reached before diverging.');
    expect(text).toContain('Runs that failed or were interrupted did not finish: they are left out of the means');
  }
});

test('formatting: percent with two decimals, losses to the interval’s precision', () => {
  expect(formatMeanCI(meanCI([0.9787, 0.9785, 0.9788, 0.9774]), true)).toBe('97.84 ± 0.10 %');
  expect(formatMeanCI(meanCI([0.0712]), false)).toBe('0.07120');
  expect(formatMeanCI(meanCI([0.9781]), true)).toBe('97.81 %');
  expect(formatMeanCI(meanCI([1, 2, 3, 4, 5]), false)).toBe('3.0 ± 2.0');
  expect(formatMeanCI(meanCI([0.071, 0.073, 0.072]), false)).toBe('0.0720 ± 0.0025');
  expect(formatMeanCI(meanCI([NaN]), false)).toBe('—');
});

test('an accuracy interval that would pass 0% or 100% is cut there and marked', () => {
  // The README main job's old figure: 24.78 ± 114.04 % over two seeds. Three seeds, wide:
  const wide = meanCI([0.1, 0.2, 0.9]);
  expect(wide.lower).toBeLessThan(0);
  expect(wide.upper).toBeGreaterThan(1);
  expect(formatMeanCI(wide, true)).toBe('40.00 % (CI 0.00†–100.00†)');
  const high = meanCI([0.99, 0.995, 0.9]);
  expect(high.upper).toBeGreaterThan(1);
  expect(formatMeanCI(high, true)).toBe(`96.17 % (CI ${(100 * high.lower).toFixed(2)}–100.00†)`);
  // Inside the range: the usual ± form.
  expect(formatMeanCI(meanCI([0.97, 0.975, 0.98]), true)).toBe('97.50 ± 1.24 %');
});

test('fewer than three runs: the mean and the range of the values, not a one-degree-of-freedom t-interval', () => {
  expect(formatMeanCI(meanCI([0.968, 0.9706]), true)).toBe('96.93 % (96.80–97.06)');
  expect(formatMeanCI(meanCI([0.0701, 0.0723]), false)).toBe('0.07120 (0.07010–0.07230)');
  expect(formatMeanCI(meanCI([0.5, 0.5]), true)).toBe('50.00 %');
});

test('batch-norm runs get columns and a chart for the moving-average and batch-statistics accuracies', async () => {
  const { buildReport } = await import('../../src/report/report');
  const { syntheticRecord } = await import('../helpers/records');
  const { extraKeys } = await import('../../src/record/record');
  const runs = [1, 2, 3].flatMap((seed) => {
    const none = syntheticRecord({ runId: `none-${seed}`, seed, config: { variant: 'no norm' } });
    const bn = syntheticRecord({ runId: `bn-${seed}`, seed: seed + 10, config: { variant: 'batch norm' } });
    for (const e of bn.epochs) {
      e.testAccuracy = 0.97 + seed / 1000;
      e.extra = {
        ...e.extra,
        [extraKeys.bnMovingTestAccuracy]: 0.3 + seed / 100,
        [extraKeys.bnBatchTestAccuracy]: 0.96,
        [extraKeys.bnGapTestAccuracy]: 0.66 - seed / 100,
        [extraKeys.bnPreciseBatches]: 100,
      };
    }
    return [none, bn];
  });
  const t = resultsTable(runs, { groupBy: 'variant' });
  expect(t.columns.map((c) => c.label).slice(0, 4)).toEqual([
    'Final test accuracy (BN: precise statistics)',
    'BN: with moving averages',
    'BN: with batch statistics',
    'BN gap: batch statistics − moving averages',
  ]);
  const bnRow = t.rows.find((r) => r.group === 'batch norm')!;
  expect(formatMeanCI(bnRow.cells[1]!, true)).toBe(formatMeanCI(meanCI([0.31, 0.32, 0.33]), true));
  expect(t.rows.find((r) => r.group === 'no norm')!.cells[1]!.n).toBe(0); // '—' for runs without batch norm
  const { report } = await buildReport({ title: 't', runs, groupBy: 'variant' });
  const chart = report.figures.find((f) => f.id === 'batch-norm-statistics');
  expect(chart).toBeDefined();
  expect(chart!.svg).toContain('moving averages');
  expect(chart!.svg).toContain('precise statistics');
});

test('a report whose only batch-norm runs were interrupted builds, without the batch-norm statistics chart', async () => {
  const { buildReport } = await import('../../src/report/report');
  const { syntheticRecord } = await import('../helpers/records');
  const { extraKeys } = await import('../../src/record/record');
  const bn = syntheticRecord({ runId: 'bn-1', seed: 1, config: { variant: 'batch norm' } });
  for (const e of bn.epochs) e.extra = { ...e.extra, [extraKeys.bnMovingTestAccuracy]: 0.3, [extraKeys.bnBatchTestAccuracy]: 0.96 };
  bn.status = 'interrupted';
  // Stopped part way, the run's epochs hold batch-norm figures but it is left out of the results.
  const { report } = await buildReport({ title: 't', runs: [bn], groupBy: 'variant' });
  expect(report.figures.find((f) => f.id === 'batch-norm-statistics')).toBeUndefined();
});

test('a difference of accuracies is cut at ±100%, not at 0', () => {
  const gap = meanCI([-0.1, 0.2, 0.9]);
  expect(gap.lower).toBeGreaterThan(-1);
  expect(formatMeanCI(gap, true, [-1, 1])).toBe(`33.33 % (CI ${(100 * gap.lower).toFixed(2)}–100.00†)`);
});
