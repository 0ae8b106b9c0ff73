import type { TopLevelSpec } from 'vega-lite';
import { BnlabError } from '@bnlab/core';
import { slug, type Figure } from './figure.js';
import { LINE_LEGEND, type ChartOptions } from './line_charts.js';
import { renderVegaLite } from './render.js';
import type { LabelledRun } from './series.js';

/** One point of {@link activationTraceChart}: a percentile of one run's traced unit at one step. */
export interface ActivationTracePoint {
  run: string;
  step: number;
  percentile: string;
  value: number;
}

/**
 * The points of the trace of `block`/`unit` in each run (runs that did not trace it give
 * none); non-finite values (a run that blew up) are left out.
 */
export function activationTracePoints(runs: readonly LabelledRun[], block: string, unit: number): ActivationTracePoint[] {
  const points: ActivationTracePoint[] = [];
  for (const { label, record } of runs) {
    const trace = record.activationTraces?.find((t) => t.block === block && t.unit === unit);
    if (!trace) continue;
    trace.steps.forEach((step, i) => {
      trace.percentiles.forEach((p, j) => {
        const value = trace.values[i]?.[j];
        if (value !== undefined && Number.isFinite(value)) points.push({ run: label, step, percentile: `${p}th`, value });
      });
    });
  }
  return points;
}

/**
 * Ioffe & Szegedy's Figure 1 (b, c) for any run: the traced percentiles of one unit's
 * pre-activation input against the training step, one panel per run side by side on a shared
 * y axis, one line per percentile.
 */
export async function activationTraceChart(
  runs: readonly LabelledRun[],
  block: string,
  unit: number,
  options: ChartOptions = {},
): Promise<Figure> {
  const values = activationTracePoints(runs, block, unit);
  if (values.length === 0) {
    throw new BnlabError('INVALID_ARGUMENT', `activationTraceChart: no run traced unit ${unit} of block ${block}`, { where: 'runs' });
  }
  const title = options.title ?? `Pre-activation percentiles of ${block}, unit ${unit}`;
  const order = [...new Set(values.map((v) => v.percentile))].sort((a, b) => parseFloat(b) - parseFloat(a));
  const spec = {
    title,
    data: { values },
    facet: { column: { field: 'run', type: 'nominal', title: null, sort: runs.map((r) => r.label) } },
    spec: {
      width: options.width ?? Math.max(220, Math.floor(560 / Math.max(1, new Set(values.map((v) => v.run)).size))),
      height: options.height ?? 260,
      mark: { type: 'line', strokeWidth: 1.8 },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'Training step' },
        y: { field: 'value', type: 'quantitative', title: 'Pre-activation input', scale: { zero: false } },
        color: { field: 'percentile', type: 'nominal', title: 'Percentile', sort: order, legend: LINE_LEGEND },
      },
    },
    resolve: { scale: { y: 'shared' } },
  } as unknown as TopLevelSpec;
  const { svg, width, height } = await renderVegaLite(spec);
  const figure: Figure = { id: options.id ?? slug(title), title, svg, width, height };
  if (options.caption !== undefined) figure.caption = options.caption;
  return figure;
}
