import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { Rng } from '@bnlab/core';
import { epochChart, lossCurveChart, seedBandChart, seedBandRows } from '../../src/plots/line_charts';
import { sweepChart, sweepFromRecords } from '../../src/plots/sweep_chart';
import { histogramChart } from '../../src/plots/histogram_chart';
import { svgToPng } from '../../src/node/png';
import type { Figure } from '../../src/plots/figure';
import { syntheticRecord, valuesRecord } from '../helpers/records';
import { assertWellFormedSvg, countMarks, svgTexts } from '../helpers/svg';

// Set BNLAB_PLOTS_DIR to keep the pictures for looking at them.
const keep = process.env.BNLAB_PLOTS_DIR;
function check(f: Figure): { width: number; height: number } {
  const size = assertWellFormedSvg(f.svg);
  expect(size).toEqual({ width: f.width, height: f.height });
  const png = PNG.sync.read(Buffer.from(svgToPng(f.svg, { scale: 2 })));
  expect(png.width).toBe(Math.round(2 * f.width));
  expect(png.height).toBe(Math.round(2 * f.height));
  if (keep) {
    mkdirSync(keep, { recursive: true });
    writeFileSync(join(keep, `${f.id}.svg`), f.svg);
    writeFileSync(join(keep, `${f.id}.png`), svgToPng(f.svg));
  }
  return size;
}

const bn = [0, 1, 2].map((s) =>
  syntheticRecord({ runId: `bn-${s}`, seed: s, finalAccuracy: 0.985, config: { variant: 'BN', batchSize: 32 * 2 ** s } }),
);
const none = [0, 1, 2].map((s) =>
  syntheticRecord({ runId: `none-${s}`, seed: 10 + s, finalAccuracy: 0.975, config: { variant: 'none', batchSize: 32 * 2 ** s } }),
);
const diverged = syntheticRecord({ runId: 'lr 0.04', seed: 99, diverge: 70 });

test('loss per batch: raw and smoothed line per run, legend, axis titles, divergence marker', async () => {
  const f = await lossCurveChart([
    { label: 'With BN', record: bn[0]! },
    { label: 'Without BN', record: none[0]! },
    { label: 'No BN, lr 0.04', record: diverged },
  ]);
  check(f);
  const texts = svgTexts(f.svg);
  expect(texts).toEqual(
    expect.arrayContaining([
      'Training loss per batch',
      'Training step (batch)',
      'Run',
      'With BN',
      'Without BN',
      'No BN, lr 0.04',
      'No BN, lr 0.04: diverged',
    ]),
  );
  expect(texts.some((t) => t.startsWith('Training loss (faint: raw, bold: EMA 0.9)'))).toBe(true);
  // Three runs, each drawn raw and smoothed.
  expect(countMarks(f.svg, 'mark-line')).toBe(6);
  expect(countMarks(f.svg, 'mark-rule')).toBe(1);
  expect(f.id).toBe('training-loss-per-batch');
});

test('accuracy per epoch: one line per run and figure, dash legend', async () => {
  const f = await epochChart(
    [
      { label: 'With BN', record: bn[0]! },
      { label: 'Without BN', record: none[0]! },
    ],
    { metrics: ['trainAccuracy', 'valAccuracy'] },
  );
  check(f);
  const texts = svgTexts(f.svg);
  expect(texts).toEqual(
    expect.arrayContaining([
      'Accuracy per epoch',
      'Epoch',
      'Accuracy',
      'With BN',
      'Without BN',
      'Training accuracy',
      'Validation accuracy',
    ]),
  );
  expect(countMarks(f.svg, 'mark-line')).toBe(4);
  // Epoch ticks are the integers 1..3, shown once each.
  const ticks = texts.filter((t) => /^\d$/.test(t));
  expect(ticks).toEqual(['1', '2', '3']);
});

test('mean ± CI band over seeds, with the CI of Student t', async () => {
  const f = await seedBandChart([
    { label: 'BN', records: bn },
    { label: 'none', records: none },
  ]);
  check(f);
  expect(svgTexts(f.svg)).toEqual(
    expect.arrayContaining(['Validation accuracy per epoch: mean ± 95% CI over seeds', 'BN', 'none', 'Variant']),
  );
  expect(countMarks(f.svg, 'mark-area')).toBe(2);
  expect(countMarks(f.svg, 'mark-line')).toBe(2);
  // The band is mean ± t(0.975, 2)·sd/√3 of the three seeds' values (t = 4.302652729749462).
  const rows = seedBandRows([{ label: 'BN', records: bn }], 'valAccuracy');
  expect(rows.map((r) => r.epoch)).toEqual([1, 2, 3]);
  rows.forEach((row, e) => {
    const v = bn.map((r) => r.epochs[e]!.valAccuracy!);
    const mean = (v[0]! + v[1]! + v[2]!) / 3;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / 2);
    expect(row.n).toBe(3);
    expect(row.mean).toBeCloseTo(mean, 12);
    expect(row.upper! - row.mean).toBeCloseTo((4.302652729749462 * sd) / Math.sqrt(3), 10);
    expect(row.mean - row.lower!).toBeCloseTo((4.302652729749462 * sd) / Math.sqrt(3), 10);
  });
});

test('seed band: a mean only at the epochs every run of the group reached', async () => {
  const stopped = [
    { label: 'stopped', records: [valuesRecord('s0', 'completed', [0.5, 0.9, 0.95]), valuesRecord('s1', 'completed', [0.1])] },
    { label: 'diverged', records: [valuesRecord('d0', 'completed', [0.4, 0.6, 0.7]), valuesRecord('d1', 'diverged', [0.2, NaN])] },
    { label: 'all', records: [valuesRecord('a0', 'completed', [0.4, 0.6]), valuesRecord('a1', 'completed', [0.6, 0.8])] },
  ];
  const rows = seedBandRows(stopped, 'valAccuracy');
  // Not 0.3 → 0.9 → 0.95 (the mean of whichever runs remain): the line ends at epoch 1.
  expect(rows.map((r) => [r.group, r.epoch, r.n])).toEqual([
    ['stopped', 1, 2],
    ['diverged', 1, 2],
    ['all', 1, 2],
    ['all', 2, 2],
  ]);
  expect(rows.map((r) => r.mean)).toEqual([
    expect.closeTo(0.3, 12),
    expect.closeTo(0.3, 12),
    expect.closeTo(0.5, 12),
    expect.closeTo(0.7, 12),
  ]);
  const f = await seedBandChart(stopped, { id: 'seed-band-stopped-runs' });
  check(f);
  expect(countMarks(f.svg, 'mark-line')).toBe(3);
});

test('seed band: runs that failed or were interrupted are left out, as in the results table', () => {
  const groups = [
    {
      label: 'one failed',
      records: [valuesRecord('f0', 'completed', [0.4, 0.6]), valuesRecord('f1', 'completed', [0.6, 0.8]), valuesRecord('f2', 'failed', [])],
    },
    { label: 'interrupted', records: [valuesRecord('i0', 'completed', [0.5, 0.7]), valuesRecord('i1', 'interrupted', [0.1])] },
  ];
  const rows = seedBandRows(groups, 'valAccuracy');
  expect(rows.map((r) => [r.group, r.epoch, r.n])).toEqual([
    ['one failed', 1, 2],
    ['one failed', 2, 2],
    ['interrupted', 1, 1],
    ['interrupted', 2, 1],
  ]);
  expect(rows.map((r) => r.mean)).toEqual([
    expect.closeTo(0.5, 12),
    expect.closeTo(0.7, 12),
    expect.closeTo(0.5, 12),
    expect.closeTo(0.7, 12),
  ]);
});

test('sweeps: lines on a log axis, grouped bars for names, error bars', async () => {
  const points = sweepFromRecords([...bn, ...none], { x: (r) => r.config.batchSize as number, series: (r) => r.config.variant as string });
  expect(points).toHaveLength(6);
  expect(points[0]).toEqual({ series: 'BN', x: 32, values: [bn[0]!.epochs[2]!.testAccuracy] });
  const lines = await sweepChart(
    [16, 32, 64, 128].flatMap((b) => [
      { series: 'BN', x: b, values: [0.9787, 0.979, 0.9781] },
      { series: 'no BN', x: b, values: [0.976, 0.9772, 0.975] },
    ]),
    { xTitle: 'Batch size', yTitle: 'Test accuracy', xScale: 'log', percent: true },
  );
  check(lines);
  const t = svgTexts(lines.svg);
  expect(t).toEqual(
    expect.arrayContaining([
      'Test accuracy vs batch size',
      'Batch size',
      'Test accuracy (mean ± 95% CI)',
      '16',
      '32',
      '64',
      '128',
      'BN',
      'no BN',
    ]),
  );
  expect(countMarks(lines.svg, 'mark-line')).toBe(2);
  const bars = await sweepChart(
    ['conv1', 'conv2', 'conv3', 'conv4'].map((p) => ({ series: 'BN on one layer', x: p, values: [0.7998, 0.785, 0.791] })),
    { xTitle: 'BN placement', yTitle: 'Test accuracy', percent: true },
  );
  check(bars);
  expect(svgTexts(bars.svg)).toEqual(expect.arrayContaining(['conv1', 'conv2', 'conv3', 'conv4', 'BN placement']));
  expect(countMarks(bars.svg, 'mark-rect', 'layer_0_marks')).toBe(4);
  // Error bars: a rule and two ticks per bar.
  expect(countMarks(bars.svg, 'mark-rule')).toBe(4);
});

test('histograms overlay series on shared bins', async () => {
  const rng = new Rng(5);
  const f = await histogramChart(
    [
      { label: 'with BN', values: Array.from({ length: 1000 }, () => rng.normal()) },
      { label: 'without BN', values: Array.from({ length: 500 }, () => rng.normal(2, 3)) },
    ],
    { bins: 30, title: 'Pre-activations of conv1' },
  );
  check(f);
  expect(svgTexts(f.svg)).toEqual(
    expect.arrayContaining(['Pre-activations of conv1', 'Activation value', 'Density', 'with BN', 'without BN']),
  );
  expect(countMarks(f.svg, 'mark-rect')).toBe(60);
});

test('bad input is refused with the rule stated', async () => {
  await expect(lossCurveChart([])).rejects.toThrow('lossCurveChart needs at least one run, got none');
  await expect(
    epochChart([
      { label: 'a', record: bn[0]! },
      { label: 'a', record: bn[1]! },
    ]),
  ).rejects.toThrow('run labels must be unique; "a" appears twice');
});
