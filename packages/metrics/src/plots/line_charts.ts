import type { TopLevelSpec } from 'vega-lite';
import { BnlabError } from '@bnlab/core';
import { emaSmooth } from '../stats/smoothing.js';
import { MIN_VALUES_FOR_INTERVAL, meanCI } from '../stats/summary.js';
import { slug, type Figure } from './figure.js';
import { renderVegaLite } from './render.js';
import { epochValue, isAccuracy, isLeftOut, metricTitle, type EpochMetric, type LabelledRun, type RunGroup } from './series.js';

/** Size and titles shared by the charts. */
export interface ChartOptions {
  /** @default a title that says what is plotted */
  title?: string;
  /** Plot area width in pixels. @default 560 */
  width?: number;
  /** Plot area height in pixels. @default 300 */
  height?: number;
  /** @default derived from `title` */
  id?: string;
  /** A sentence for the report under the figure. */
  caption?: string;
}

/** Legend entries drawn as short opaque strokes, as the lines they stand for. */
export const LINE_LEGEND = { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3, symbolSize: 300 } as const;

/** An epoch axis with integer ticks, numbered from 1. */
export function epochAxis(maxEpoch: number): Record<string, unknown> {
  const ticks = Array.from({ length: maxEpoch }, (_, i) => i + 1);
  const step = Math.ceil(maxEpoch / 15);
  return {
    field: 'epoch',
    type: 'quantitative',
    title: 'Epoch',
    scale: { domain: [1, Math.max(2, maxEpoch)], nice: false },
    axis: { values: ticks.filter((t) => (t - 1) % step === 0), format: 'd' },
  };
}

function checkRuns(runs: readonly { label: string }[], what: string): void {
  if (runs.length === 0) throw new BnlabError('INVALID_ARGUMENT', `${what} needs at least one run, got none`, { where: 'runs' });
  const seen = new Set<string>();
  for (const r of runs) {
    if (seen.has(r.label)) {
      throw new BnlabError('INVALID_ARGUMENT', `run labels must be unique; "${r.label}" appears twice`, { where: 'label' });
    }
    seen.add(r.label);
  }
}

async function figure(spec: TopLevelSpec, options: ChartOptions, title: string): Promise<Figure> {
  const { svg, width, height } = await renderVegaLite(spec);
  const f: Figure = { id: options.id ?? slug(title), title, svg, width, height };
  if (options.caption !== undefined) f.caption = options.caption;
  return f;
}

/**
 * Keeps at most `max` points of a long series: the minimum and maximum of each bucket, so
 * the noise band of a per-batch loss stays visible.
 */
function envelope<T extends { x: number; y: number }>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const buckets = Math.max(1, Math.floor(max / 2));
  const size = points.length / buckets;
  const out: T[] = [];
  for (let b = 0; b < buckets; b++) {
    const slice = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (slice.length === 0) continue;
    let lo = slice[0] as T;
    let hi = slice[0] as T;
    for (const p of slice) {
      if (p.y < lo.y) lo = p;
      if (p.y > hi.y) hi = p;
    }
    if (lo === hi) out.push(lo);
    else out.push(...(lo.x < hi.x ? [lo, hi] : [hi, lo]));
  }
  return out;
}

/** Options of {@link lossCurveChart}. */
export interface LossCurveOptions extends ChartOptions {
  /** Per-batch figure to draw. @default 'loss' */
  metric?: 'loss' | 'accuracy';
  /** EMA smoothing weight of the bold curve (0 draws no smoothed curve). @default 0.9 */
  smoothing?: number;
  /** Draw the raw per-batch values as a faint line under the smoothed one. @default true */
  raw?: boolean;
  /** Logarithmic y axis. @default false */
  logY?: boolean;
  /** Most raw points drawn per run (longer runs keep each bucket's min and max). @default 1500 */
  maxPoints?: number;
}

/**
 * Training loss (or accuracy) per batch of several runs overlaid: the raw values faint, an
 * exponentially smoothed curve bold, one colour per run with a legend, and a dashed rule
 * where a run diverged. Non-finite losses are left out of the lines.
 */
export async function lossCurveChart(runs: readonly LabelledRun[], options: LossCurveOptions = {}): Promise<Figure> {
  checkRuns(runs, 'lossCurveChart');
  const metric = options.metric ?? 'loss';
  const smoothing = options.smoothing ?? 0.9;
  const showRaw = options.raw ?? true;
  const name = metric === 'loss' ? 'Training loss' : 'Training accuracy';
  const title = options.title ?? `${name} per batch`;
  const raw: Array<{ run: string; x: number; y: number }> = [];
  const smooth: Array<{ run: string; x: number; y: number }> = [];
  const rules: Array<{ run: string; x: number; text: string }> = [];
  for (const { label, record } of runs) {
    const pts = record.batches
      .map((b) => ({ run: label, x: b.step, y: metric === 'loss' ? b.loss : (b.accuracy ?? NaN) }))
      .filter((p) => Number.isFinite(p.y) && (!options.logY || p.y > 0));
    if (showRaw) raw.push(...envelope(pts, options.maxPoints ?? 1500));
    if (smoothing > 0) {
      const s = emaSmooth(
        pts.map((p) => p.y),
        smoothing,
      );
      const sm = pts.map((p, i) => ({ run: label, x: p.x, y: s[i] as number }));
      smooth.push(...(sm.length > 3000 ? sm.filter((_, i) => i % Math.ceil(sm.length / 3000) === 0) : sm));
    }
    if (record.status === 'diverged' && record.divergedAtStep !== undefined) {
      rules.push({ run: label, x: record.divergedAtStep, text: `${label}: diverged` });
    }
  }
  const color = { field: 'run', type: 'nominal', title: 'Run', sort: runs.map((r) => r.label), legend: LINE_LEGEND } as const;
  const x = { field: 'x', type: 'quantitative', title: 'Training step (batch)' } as const;
  const yTitle = `${name}${smoothing > 0 && showRaw ? ` (faint: raw, bold: EMA ${smoothing})` : smoothing > 0 ? ` (EMA ${smoothing})` : ''}`;
  const y = {
    field: 'y',
    type: 'quantitative',
    title: yTitle,
    scale: options.logY ? { type: 'log' } : { zero: false },
    ...(metric === 'accuracy' ? { axis: { format: '.0%' } } : {}),
  } as const;
  const layer: unknown[] = [];
  if (showRaw) {
    layer.push({
      data: { values: raw },
      mark: { type: 'line', strokeWidth: 1, opacity: smoothing > 0 ? 0.3 : 0.9, aria: false },
      encoding: { x, y, color, detail: { field: 'run' } },
    });
  }
  if (smoothing > 0) {
    layer.push({
      data: { values: smooth },
      mark: { type: 'line', strokeWidth: 2.2, aria: false },
      encoding: { x, y, color },
    });
  }
  if (rules.length > 0) {
    layer.push({
      data: { values: rules },
      mark: { type: 'rule', strokeDash: [5, 4], strokeWidth: 1.5 },
      encoding: { x, color },
    });
    layer.push({
      data: { values: rules },
      mark: { type: 'text', align: 'left', dx: 4, dy: 0, baseline: 'top', fontSize: 11, y: 4 },
      encoding: { x, text: { field: 'text' }, color },
    });
  }
  const spec = {
    title,
    width: options.width ?? 560,
    height: options.height ?? 300,
    layer,
  } as unknown as TopLevelSpec;
  return figure(spec, options, title);
}

/** Options of {@link epochChart}. */
export interface EpochChartOptions extends ChartOptions {
  /** The epoch figures to draw; several are told apart by dash. @default ['valAccuracy'] */
  metrics?: EpochMetric[];
  /** @default false */
  logY?: boolean;
  /** Title of the legend of the metrics (dashes). @default 'Figure' */
  legendTitle?: string;
}

/**
 * Figures per epoch (validation accuracy by default) of several runs overlaid, with points
 * and a legend; several metrics (e.g. train and validation accuracy) are drawn with
 * different dashes. Epochs are numbered from 1.
 */
export async function epochChart(runs: readonly LabelledRun[], options: EpochChartOptions = {}): Promise<Figure> {
  checkRuns(runs, 'epochChart');
  const metrics = options.metrics ?? ['valAccuracy'];
  if (metrics.length === 0) throw new BnlabError('INVALID_ARGUMENT', 'metrics must name at least one epoch figure', { where: 'metrics' });
  const values: Array<{ run: string; metric: string; epoch: number; value: number }> = [];
  for (const { label, record } of runs) {
    for (const e of record.epochs) {
      for (const m of metrics) {
        const v = epochValue(e, m);
        if (v !== undefined && Number.isFinite(v)) values.push({ run: label, metric: metricTitle(m), epoch: e.epoch + 1, value: v });
      }
    }
  }
  const allAcc = metrics.every(isAccuracy);
  const yTitle = metrics.length === 1 ? metricTitle(metrics[0] as string) : allAcc ? 'Accuracy' : 'Value';
  const title = options.title ?? `${yTitle} per epoch`;
  const maxEpoch = Math.max(1, ...values.map((v) => v.epoch));
  const encoding: Record<string, unknown> = {
    x: epochAxis(maxEpoch),
    y: {
      field: 'value',
      type: 'quantitative',
      title: yTitle,
      scale: options.logY ? { type: 'log' } : { zero: false },
      ...(allAcc ? { axis: { format: '.1%' } } : {}),
    },
    color: { field: 'run', type: 'nominal', title: 'Run', sort: runs.map((r) => r.label), legend: LINE_LEGEND },
  };
  const lineEncoding: Record<string, unknown> = { ...encoding };
  if (metrics.length > 1) {
    lineEncoding.strokeDash = {
      field: 'metric',
      type: 'nominal',
      title: options.legendTitle ?? 'Figure',
      sort: metrics.map(metricTitle),
      legend: { symbolType: 'stroke', symbolStrokeColor: '#444444', symbolStrokeWidth: 2, symbolSize: 500 },
    };
  }
  // Lines and points in separate layers: a line mark with `point: true` gets dot symbols
  // in the dash legend, which cannot show the dashes.
  const spec = {
    title,
    width: options.width ?? 560,
    height: options.height ?? 300,
    data: { values },
    layer: [
      { mark: { type: 'line', strokeWidth: 2 }, encoding: lineEncoding },
      { mark: { type: 'point', filled: true, size: 36 }, encoding: { ...encoding, detail: { field: 'metric' } } },
    ],
  } as unknown as TopLevelSpec;
  return figure(spec, options, title);
}

/** One point of a seed band: the mean over runs of a group at one epoch and its interval. */
export interface SeedBandRow {
  /** The group's label. */
  group: string;
  /** Epoch, from 1. */
  epoch: number;
  /** Mean over the group's runs. */
  mean: number;
  /** Lower bound of the interval; absent with fewer than two finite values. */
  lower?: number;
  /** Upper bound of the interval; absent with fewer than two finite values. */
  upper?: number;
  /** Number of runs the mean is over: always every run of the group (see {@link seedBandRows}). */
  n: number;
}

/**
 * The points {@link seedBandChart} draws: per group and epoch, {@link meanCI} of the runs'
 * values (for accuracies the interval is cut to [0, 1]). Only epochs at which every run of
 * the group has a finite value get a point: a mean over the runs that happen to remain would
 * jump when a run stops early (or diverges), so a group's line ends at the last epoch all of
 * its runs reached. Runs that failed or were interrupted did not finish and are left out, as
 * in the results table (so a seed that failed before its first epoch does not hide its group).
 */
export function seedBandRows(groups: readonly RunGroup[], metric: EpochMetric = 'valAccuracy', level = 0.95): SeedBandRow[] {
  const acc = isAccuracy(metric);
  const rows: SeedBandRow[] = [];
  for (const g of groups) {
    const byEpoch = new Map<number, number[]>();
    const finished = g.records.filter((r) => !isLeftOut(r));
    for (const r of finished) {
      for (const e of r.epochs) {
        const v = epochValue(e, metric);
        if (v === undefined) continue;
        const list = byEpoch.get(e.epoch) ?? [];
        list.push(v);
        byEpoch.set(e.epoch, list);
      }
    }
    for (const [epoch, vals] of [...byEpoch.entries()].sort((a, b) => a[0] - b[0])) {
      const c = meanCI(vals, level);
      // Not every run reached this epoch with a finite value: no honest mean over the group.
      if (c.n < finished.length) continue;
      const row: SeedBandRow = { group: g.label, epoch: epoch + 1, mean: c.mean, n: c.n };
      if (c.n < MIN_VALUES_FOR_INTERVAL && c.n > 1) {
        // Two runs: their range (a t-interval with one degree of freedom says nothing).
        row.lower = c.min;
        row.upper = c.max;
      } else if (Number.isFinite(c.halfWidth)) {
        // An accuracy lies in [0, 1]: draw the interval inside it.
        row.lower = acc ? Math.max(0, c.lower) : c.lower;
        row.upper = acc ? Math.min(1, c.upper) : c.upper;
      }
      rows.push(row);
    }
  }
  return rows;
}

/** Options of {@link seedBandChart}. */
export interface SeedBandOptions extends ChartOptions {
  /** The epoch figure. @default 'valAccuracy' */
  metric?: EpochMetric;
  /** Confidence level of the band. @default 0.95 */
  level?: number;
}

/**
 * Mean over seeds per epoch with a band of the `level` confidence interval (Student's t,
 * n − 1 degrees of freedom), one colour per group of runs. A group's line and band are drawn
 * only at the epochs every run of the group reached with a finite value
 * ({@link seedBandRows}), so they end where the group's first run stopped or diverged.
 */
export async function seedBandChart(groups: readonly RunGroup[], options: SeedBandOptions = {}): Promise<Figure> {
  checkRuns(groups, 'seedBandChart');
  const metric = options.metric ?? 'valAccuracy';
  const level = options.level ?? 0.95;
  const rows = seedBandRows(groups, metric, level);
  const name = metricTitle(metric);
  const pct = Math.round(level * 100);
  const ranges = rows.length > 0 && rows.every((r) => r.n < MIN_VALUES_FOR_INTERVAL);
  const band = ranges ? 'range' : `${pct}% CI`;
  const title = options.title ?? `${name} per epoch: mean ${ranges ? 'and range' : `± ${pct}% CI`} over seeds`;
  const acc = isAccuracy(metric);
  const maxEpoch = Math.max(1, ...rows.map((r) => r.epoch));
  const x = epochAxis(maxEpoch);
  const color = { field: 'group', type: 'nominal', title: 'Variant', sort: groups.map((g) => g.label), legend: LINE_LEGEND };
  const yAxis = acc ? { format: '.1%' } : {};
  const spec = {
    title,
    width: options.width ?? 560,
    height: options.height ?? 300,
    data: { values: rows },
    layer: [
      {
        transform: [{ filter: 'isValid(datum.lower)' }],
        mark: { type: 'area', opacity: 0.22, aria: false },
        encoding: {
          x,
          y: { field: 'lower', type: 'quantitative', title: `${name} (mean, ${band})`, scale: { zero: false }, axis: yAxis },
          y2: { field: 'upper' },
          color,
        },
      },
      {
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative', title: `${name} (mean, ${band})`, scale: { zero: false }, axis: yAxis },
          color,
          tooltip: [{ field: 'group' }, { field: 'epoch' }, { field: 'mean' }, { field: 'n' }],
        },
      },
    ],
  } as unknown as TopLevelSpec;
  return figure(spec, options, title);
}
