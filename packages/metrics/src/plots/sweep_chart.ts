import type { TopLevelSpec } from 'vega-lite';
import type { TrainingRecord } from '@bnlab/core';
import { BnlabError } from '@bnlab/core';
import { MIN_VALUES_FOR_INTERVAL, meanCI } from '../stats/summary.js';
import { slug, type Figure } from './figure.js';
import { renderVegaLite } from './render.js';
import { epochValue, type EpochMetric } from './series.js';
import type { ChartOptions } from './line_charts.js';

/** The values (one per seed) measured at one setting of a sweep, for one series. */
export interface SweepPoint {
  /** The series (e.g. `'BN'`, `'no BN'`). */
  series: string;
  /** The swept setting: a number (batch size, learning rate) or a name (placement). */
  x: number | string;
  /** One value per seed. */
  values: readonly number[];
}

/** Options of {@link sweepChart}. */
export interface SweepChartOptions extends ChartOptions {
  /** Title of the x axis (the swept setting). */
  xTitle: string;
  /** Title of the y axis. @default 'Value' */
  yTitle?: string;
  /**
   * `'log'` (learning rates, batch sizes: points at their values on a log axis),
   * `'linear'`, or `'ordinal'` (one slot per setting in the given order; names are always
   * ordinal). @default 'ordinal'
   */
  xScale?: 'log' | 'linear' | 'ordinal';
  /**
   * `'line'`: points joined per series; `'point'`: points side by side, not joined;
   * `'bar'`: grouped bars from zero. @default 'line' for numbers, 'bar' for names
   */
  mark?: 'line' | 'bar' | 'point';
  /** Format y as percent. @default false */
  percent?: boolean;
  /** Confidence level of the error bars. @default 0.95 */
  level?: number;
  /** Range the error bars are drawn inside (an accuracy cannot pass 100%). @default [0, 1] with `percent`, else none */
  clip?: [number, number];
}

/**
 * A sweep: mean over seeds at each setting with error bars of the `level` confidence
 * interval (Student's t), as lines or grouped bars, one colour per series — accuracy vs
 * batch size, vs learning rate, vs placement of the normalization.
 */
export async function sweepChart(points: readonly SweepPoint[], options: SweepChartOptions): Promise<Figure> {
  if (points.length === 0) throw new BnlabError('INVALID_ARGUMENT', 'sweepChart needs at least one point, got none', { where: 'points' });
  const level = options.level ?? 0.95;
  const named = points.some((p) => typeof p.x === 'string');
  const xScale = named ? 'ordinal' : (options.xScale ?? 'ordinal');
  const mark = options.mark ?? (named ? 'bar' : 'line');
  const order: Array<string | number> = [];
  for (const p of points) if (!order.includes(p.x)) order.push(p.x);
  const seriesOrder: string[] = [];
  for (const p of points) if (!seriesOrder.includes(p.series)) seriesOrder.push(p.series);
  const [lo, hi] = options.clip ?? (options.percent ? [0, 1] : [-Infinity, Infinity]);
  const rows = points.map((p) => {
    const c = meanCI(p.values, level);
    // Two values: their range (a t-interval with one degree of freedom says nothing).
    const range = c.n > 1 && c.n < MIN_VALUES_FOR_INTERVAL;
    return {
      series: p.series,
      x: xScale === 'ordinal' ? String(p.x) : p.x,
      mean: c.mean,
      lower: range ? c.min : Number.isFinite(c.halfWidth) ? Math.max(lo, c.lower) : null,
      upper: range ? c.max : Number.isFinite(c.halfWidth) ? Math.min(hi, c.upper) : null,
      n: c.n,
    };
  });
  const pct = Math.round(level * 100);
  const ranges = rows.every((r) => r.n < MIN_VALUES_FOR_INTERVAL);
  const yTitle = `${options.yTitle ?? 'Value'} (mean ${ranges ? 'and range' : `± ${pct}% CI`})`;
  const xLower = /^[A-Z][a-z]/.test(options.xTitle) ? options.xTitle[0]!.toLowerCase() + options.xTitle.slice(1) : options.xTitle;
  const title = options.title ?? `${options.yTitle ?? 'Value'} vs ${xLower}`;
  const xEnc =
    xScale === 'ordinal'
      ? { field: 'x', type: 'ordinal', title: options.xTitle, sort: order.map(String), axis: { labelAngle: 0 } }
      : {
          field: 'x',
          type: 'quantitative',
          title: options.xTitle,
          scale: { type: xScale, nice: false, padding: 20 },
          axis: { values: order },
        };
  const yAxis = options.percent ? { format: '.1%' } : {};
  const y = { field: 'mean', type: 'quantitative', title: yTitle, scale: { zero: mark === 'bar' }, axis: yAxis };
  const color = {
    field: 'series',
    type: 'nominal',
    title: 'Series',
    sort: seriesOrder,
    ...(seriesOrder.length === 1 ? { legend: null } : {}),
  };
  const grouped = mark !== 'line' && xScale === 'ordinal';
  const offset = grouped ? { xOffset: { field: 'series', sort: seriesOrder } } : {};
  const main =
    mark === 'bar'
      ? { mark: { type: 'bar', opacity: 0.85 }, encoding: { x: xEnc, y, color, ...offset } }
      : mark === 'point'
        ? { mark: { type: 'point', filled: true, size: 70 }, encoding: { x: xEnc, y, color, ...offset } }
        : { mark: { type: 'line', point: { size: 60 }, strokeWidth: 2 }, encoding: { x: xEnc, y, color } };
  const spec = {
    title,
    width: options.width ?? (xScale === 'ordinal' ? Math.max(360, 90 * order.length) : 480),
    height: options.height ?? 300,
    data: { values: rows },
    layer: [
      main,
      {
        transform: [{ filter: 'isValid(datum.lower)' }],
        mark: { type: 'errorbar', ticks: { size: 14, thickness: 1.5 }, thickness: 1.5 },
        encoding: {
          x: xEnc,
          y: { field: 'lower', type: 'quantitative', title: yTitle, axis: yAxis },
          y2: { field: 'upper' },
          ...(mark === 'bar' ? { ...offset, color: { value: '#222222' } } : { ...offset, color }),
        },
      },
    ],
  } as unknown as TopLevelSpec;
  const { svg, width, height } = await renderVegaLite(spec);
  const f: Figure = { id: options.id ?? slug(title), title, svg, width, height };
  if (options.caption !== undefined) f.caption = options.caption;
  return f;
}

/** How {@link sweepFromRecords} reads a sweep out of run records. */
export interface SweepFromRecordsOptions {
  /** The setting of a run (e.g. `r => r.config.batchSize`). */
  x: (record: TrainingRecord) => number | string;
  /** The series of a run. @default one series, 'all' */
  series?: (record: TrainingRecord) => string;
  /** The figure taken from each run's last epoch. @default 'testAccuracy' */
  metric?: EpochMetric;
}

/**
 * Groups runs into {@link SweepPoint}s: one point per series × setting with the final-epoch
 * figure of each run (e.g. one test accuracy per seed). A diverged run counts with its
 * last value.
 */
export function sweepFromRecords(records: readonly TrainingRecord[], options: SweepFromRecordsOptions): SweepPoint[] {
  const metric = options.metric ?? 'testAccuracy';
  const map = new Map<string, { series: string; x: number | string; values: number[] }>();
  for (const r of records) {
    const last = r.epochs[r.epochs.length - 1];
    const v = last ? epochValue(last, metric) : undefined;
    if (v === undefined) continue;
    const series = options.series?.(r) ?? 'all';
    const x = options.x(r);
    const key = JSON.stringify([series, x]);
    const p = map.get(key) ?? { series, x, values: [] };
    p.values.push(v);
    map.set(key, p);
  }
  return [...map.values()];
}
