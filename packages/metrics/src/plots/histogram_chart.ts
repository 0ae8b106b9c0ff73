import type { TopLevelSpec } from 'vega-lite';
import { BnlabError } from '@bnlab/core';
import { histogram } from '../stats/histogram.js';
import { slug, type Figure } from './figure.js';
import { renderVegaLite } from './render.js';
import type { ChartOptions } from './line_charts.js';

/** Values whose distribution is drawn, under a legend label. */
export interface HistogramSeries {
  /** The legend entry. */
  label: string;
  /** The values (non-finite ones are skipped). */
  values: ArrayLike<number>;
}

/** Options of {@link histogramChart}. */
export interface HistogramChartOptions extends ChartOptions {
  /** @default 50 */
  bins?: number;
  /** Title of the x axis. @default 'Activation value' */
  xTitle?: string;
  /** Bin range shared by all series. @default from the 0.5th to the 99.5th percentile of all values */
  range?: [number, number];
  /** Plot densities (area 1 per series) instead of counts, so series of different sizes compare. @default true */
  density?: boolean;
}

function percentileRange(all: number[]): [number, number] {
  const s = all.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return [0, 1];
  const lo = s[Math.floor(0.005 * (s.length - 1))] as number;
  const hi = s[Math.ceil(0.995 * (s.length - 1))] as number;
  return hi > lo ? [lo, hi] : [lo - 0.5, lo + 0.5];
}

/**
 * Histograms of several sets of values (e.g. a layer's activations with and without
 * normalization) overlaid with transparency on shared bins.
 */
export async function histogramChart(series: readonly HistogramSeries[], options: HistogramChartOptions = {}): Promise<Figure> {
  if (series.length === 0)
    throw new BnlabError('INVALID_ARGUMENT', 'histogramChart needs at least one series, got none', { where: 'series' });
  const bins = options.bins ?? 50;
  const density = options.density ?? true;
  const all: number[] = [];
  for (const s of series) for (let i = 0; i < s.values.length; i++) all.push(s.values[i] as number);
  const range = options.range ?? percentileRange(all);
  const rows: Array<{ series: string; start: number; end: number; value: number }> = [];
  for (const s of series) {
    const h = histogram(s.values, { bins, range });
    h.counts.forEach((c, i) => {
      const start = h.edges[i] as number;
      rows.push({ series: s.label, start, end: start + h.binWidth, value: density ? c / (Math.max(1, h.total) * h.binWidth) : c });
    });
  }
  const xTitle = options.xTitle ?? 'Activation value';
  const title = options.title ?? `Distribution of ${xTitle.toLowerCase()}`;
  const spec = {
    title,
    width: options.width ?? 560,
    height: options.height ?? 280,
    data: { values: rows },
    mark: { type: 'rect', opacity: 0.5, stroke: null },
    encoding: {
      x: { field: 'start', type: 'quantitative', title: xTitle, scale: { domain: range, nice: false } },
      x2: { field: 'end' },
      y: { field: 'value', type: 'quantitative', title: density ? 'Density' : 'Count', stack: null },
      y2: { datum: 0 },
      color: { field: 'series', type: 'nominal', title: 'Series', sort: series.map((s) => s.label) },
    },
  } as unknown as TopLevelSpec;
  const { svg, width, height } = await renderVegaLite(spec);
  const f: Figure = { id: options.id ?? slug(title), title, svg, width, height };
  if (options.caption !== undefined) f.caption = options.caption;
  return f;
}
