import type { TrainingRecord } from '@bnlab/core';
import { BnlabError } from '@bnlab/core';
import { flattenConfig } from '../export/csv.js';
import { runDurationSeconds, extraKeys } from '../record/record.js';
import type { Figure } from '../plots/figure.js';
import { epochChart, lossCurveChart, seedBandChart } from '../plots/line_charts.js';
import { activationTraceChart } from '../plots/activation_trace_chart.js';
import { epochValue, isLeftOut } from '../plots/series.js';
import { sweepChart, type SweepPoint } from '../plots/sweep_chart.js';
import {
  defaultGroupBy,
  groupOf,
  groupRuns,
  resultsTable,
  runValue,
  type GroupBy,
  type ResultMetric,
  type ResultsTable,
} from './results.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

/** What a report is made from: one experiment, its runs and its pictures. */
export interface ExperimentReportInput {
  /** The report's title. */
  title: string;
  /** Paragraphs of plain text (blank lines separate paragraphs). */
  description?: string;
  /** The experiment's configuration (shared settings); shown flattened. @default the first run's config */
  config?: Record<string, unknown>;
  /** The runs (all variants, all seeds). */
  runs: readonly TrainingRecord[];
  /** Rows of the results table: a config path or a function. @default 'variant' when every run has one, else the run id */
  groupBy?: GroupBy;
  /** Columns of the results table. @default final test/validation accuracy and loss, training loss, epoch time */
  metrics?: ResultMetric[];
  /** Confidence level of the intervals. @default 0.95 */
  level?: number;
  /**
   * Standard figures (loss per batch, validation accuracy over seeds, training- vs
   * inference-mode accuracy when recorded) made from the runs. @default true
   */
  autoFigures?: boolean;
  /** More figures (sweeps, feature maps, histograms), after the standard ones. */
  figures?: readonly Figure[];
  /** Where the runs ran. @default the first run's environment */
  environment?: Record<string, unknown>;
  /** @default now */
  generatedAt?: Date;
}

/** A configuration, environment or run summary as rows of text. */
export type KeyValueRows = Array<[string, string]>;

/** Everything a report shows, ready to render. */
export interface ExperimentReport {
  /** The report's title. */
  title: string;
  /** Paragraphs of plain text. */
  description?: string;
  /** ISO time the report was made. */
  generatedAt: string;
  /** The configuration, flattened (settings that differ between runs say `varies: …`). */
  config: KeyValueRows;
  /** Mean ± confidence interval per variant and figure. */
  results: ResultsTable;
  /** The plots, standard ones first. */
  figures: Figure[];
  /** One line per run. */
  runs: Array<{ runId: string; group: string; status: string; epochs: number; steps: number; seconds?: number; note?: string }>;
  /** Backend, SIMD, threads, versions, runtime and duration. */
  environment: KeyValueRows;
}

/** The report's text forms and its figures. */
export interface BuiltReport {
  /** What the report shows, as data. */
  report: ExperimentReport;
  /** One self-contained HTML file: inline CSS, plots as data URLs, no script, no network. */
  html: string;
  /** Markdown; plots referenced as `figures/<id>.png` (written by `writeReport`). */
  markdown: string;
}

function text(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function environmentRows(env: Record<string, unknown> | undefined, runs: readonly TrainingRecord[]): KeyValueRows {
  const rows: KeyValueRows = [];
  const e = env ?? {};
  for (const key of ['backend', 'simd', 'threads', 'runtime', 'platform', 'arch', 'cpus']) {
    if (e[key] !== undefined) rows.push([key === 'simd' ? 'SIMD' : key, text(e[key])]);
  }
  const versions = e.versions;
  if (versions && typeof versions === 'object') {
    for (const [k, v] of Object.entries(versions as Record<string, unknown>)) rows.push([k, text(v)]);
  }
  for (const [k, v] of Object.entries(e)) {
    if (!['backend', 'simd', 'threads', 'runtime', 'platform', 'arch', 'cpus', 'versions'].includes(k)) rows.push([k, text(v)]);
  }
  const starts = runs.map((r) => Date.parse(r.startedAt)).filter(Number.isFinite);
  const ends = runs.map((r) => (r.finishedAt ? Date.parse(r.finishedAt) : NaN)).filter(Number.isFinite);
  if (starts.length > 0 && ends.length > 0) {
    const wall = (Math.max(...ends) - Math.min(...starts)) / 1000;
    const sum = runs.reduce((s, r) => s + (runDurationSeconds(r) ?? 0), 0);
    rows.push([
      'duration',
      `${wall.toFixed(1)} s wall clock, ${sum.toFixed(1)} s summed over ${runs.length} run${runs.length === 1 ? '' : 's'}`,
    ]);
    rows.push(['started', new Date(Math.min(...starts)).toISOString()]);
  }
  return rows;
}

/**
 * The runs' configurations side by side: a setting with one value in every run shows it;
 * one that varies lists its values (`varies: BN, none`).
 */
export function sharedConfig(runs: readonly TrainingRecord[]): KeyValueRows {
  const flats = runs.map((r) => flattenConfig(r.config));
  const keys: string[] = [];
  for (const f of flats) for (const k of Object.keys(f)) if (!keys.includes(k)) keys.push(k);
  return keys.map((k) => {
    const values: string[] = [];
    for (const f of flats) {
      const v = k in f ? text(f[k]) : '(unset)';
      if (!values.includes(v)) values.push(v);
    }
    if (values.length === 1) return [k, values[0] as string];
    const shown = values.slice(0, 8).join(', ');
    return [k, `varies: ${shown}${values.length > 8 ? `, … (${values.length} values)` : ''}`];
  });
}

/**
 * Final test accuracy of each batch-norm variant with precise statistics (when recorded),
 * with the moving averages and with batch statistics: batch norm's train/inference gap.
 */
async function batchNormStatisticsChart(groups: ReturnType<typeof groupRuns>, level: number): Promise<Figure | undefined> {
  const has = (r: TrainingRecord, m: string): boolean => Number.isFinite(runValue(r, m, 'last'));
  const points: SweepPoint[] = [];
  for (const g of groups) {
    const finished = g.records.filter((r) => !isLeftOut(r) && has(r, extraKeys.bnBatchTestAccuracy));
    if (finished.length === 0) continue;
    const precise = finished.some((r) => has(r, extraKeys.bnPreciseBatches));
    const settings: Array<[string, string]> = [
      ...(precise ? ([['precise statistics', 'testAccuracy']] as Array<[string, string]>) : []),
      ['moving averages', extraKeys.bnMovingTestAccuracy],
      ['batch statistics', extraKeys.bnBatchTestAccuracy],
    ];
    for (const [x, metric] of settings) {
      const values = finished.map((r) => runValue(r, metric, 'last')).filter((v) => Number.isFinite(v));
      if (values.length > 0) points.push({ series: g.label, x, values });
    }
  }
  // Every batch-norm run failed or was interrupted (left out of the results): no chart.
  if (points.length === 0) return undefined;
  return sweepChart(points, {
    title: 'Batch norm: test accuracy by the statistics it normalizes with',
    xTitle: 'Statistics',
    yTitle: 'Final test accuracy',
    percent: true,
    level,
    id: 'batch-norm-statistics',
    caption:
      'Final test accuracy of each batch-norm variant, the same weights evaluated three ways: inference with population statistics recomputed over training batches (precise BN, when the experiment uses it), ' +
      'inference with the moving averages of training, and with each test batch normalized by its own statistics (as in training, dropout off). Mean over seeds with its interval (the range for two seeds).',
  });
}

/** The standard figures for a set of runs. */
export async function standardFigures(runs: readonly TrainingRecord[], groupBy: GroupBy, level = 0.95): Promise<Figure[]> {
  const groups = groupRuns(runs, groupBy);
  const firsts = groups.map((g) => ({ label: g.label, record: g.records[0] as TrainingRecord }));
  const figures: Figure[] = [];
  if (runs.some((r) => r.batches.length > 0)) {
    figures.push(
      await lossCurveChart(firsts, {
        caption: `Training loss of every batch (faint) and its exponential moving average (bold), first run of each ${
          groups.length > 1 ? 'variant' : 'group'
        }.`,
      }),
    );
  }
  const has = (m: string): boolean => runs.some((r) => r.epochs.some((e) => epochValue(e, m) !== undefined));
  const pct = Math.round(level * 100);
  for (const metric of ['valAccuracy', 'testAccuracy', 'trainLoss'] as const) {
    if (!has(metric)) continue;
    figures.push(
      await seedBandChart(groups, {
        metric,
        level,
        caption:
          `Mean over the runs of each variant; the band is the ${pct}% confidence interval (Student's t, n − 1 degrees of freedom), or with two runs their range. ` +
          "Drawn only at the epochs every run of the variant reached (runs that failed or were interrupted are left out): a variant's line ends where its first run stopped or diverged.",
      }),
    );
  }
  const bnChart = has(extraKeys.bnBatchTestAccuracy) ? await batchNormStatisticsChart(groups, level) : undefined;
  if (bnChart) figures.push(bnChart);
  if (has(extraKeys.probeAccuracyInferenceMode) && has(extraKeys.probeAccuracyTrainingMode)) {
    figures.push(
      await epochChart(firsts, {
        metrics: [extraKeys.probeAccuracyTrainingMode, extraKeys.probeAccuracyInferenceMode],
        title: 'Probe accuracy: training mode vs inference mode',
        legendTitle: 'Mode',
        id: 'training-vs-inference-mode',
        caption:
          'Accuracy on the probe batch with batch statistics (training mode) and with the moving statistics (inference mode). ' +
          'With batch norm and momentum 0.99 the two can differ a lot after a short run.',
      }),
    );
  }
  const traced = new Map<string, { block: string; unit: number }>();
  for (const r of runs) for (const t of r.activationTraces ?? []) traced.set(`${t.block}\u0000${t.unit}`, { block: t.block, unit: t.unit });
  for (const { block, unit } of traced.values()) {
    const runsWith = firsts.filter((f) =>
      f.record.activationTraces?.some((t) => t.block === block && t.unit === unit && t.values.some((row) => row.some(Number.isFinite))),
    );
    // Runs whose every measurement blew up have nothing to draw.
    if (runsWith.length === 0) continue;
    figures.push(
      await activationTraceChart(runsWith, block, unit, {
        caption:
          `Percentiles of unit ${unit}'s input to its activation in block ${block} (after normalization placed before the activation) over a fixed set of test examples, ` +
          'measured before training and every few steps, first run of each variant (as Ioffe & Szegedy 2015, Figure 1 b and c).',
      }),
    );
  }
  return figures;
}

/**
 * Assembles a report of one experiment: its configuration, a results table with mean ±
 * confidence interval over seeds, the plots and the environment, as one self-contained
 * HTML file and as Markdown. Works in browsers too; {@link writeReport} (from
 * `@bnlab/metrics/node`) writes it to disk with PNG figures.
 */
export async function buildReport(input: ExperimentReportInput): Promise<BuiltReport> {
  if (input.runs.length === 0) {
    throw new BnlabError('INVALID_ARGUMENT', `report "${input.title}" needs at least one run, got none`, { where: 'runs' });
  }
  const groupBy = input.groupBy ?? defaultGroupBy(input.runs);
  const level = input.level ?? 0.95;
  const results = resultsTable(input.runs, { groupBy, level, ...(input.metrics ? { metrics: input.metrics } : {}) });
  const figures = [...(input.autoFigures === false ? [] : await standardFigures(input.runs, groupBy, level)), ...(input.figures ?? [])];
  const ids = new Set<string>();
  for (const f of figures) {
    let id = f.id;
    for (let k = 2; ids.has(id); k++) id = `${f.id}-${k}`;
    f.id = id;
    ids.add(id);
  }
  const config = input.config
    ? Object.entries(flattenConfig(input.config)).map(([k, v]) => [k, text(v)] as [string, string])
    : sharedConfig(input.runs);
  const report: ExperimentReport = {
    title: input.title,
    generatedAt: (input.generatedAt ?? new Date()).toISOString(),
    config,
    results,
    figures,
    runs: input.runs.map((r) => {
      const row: ExperimentReport['runs'][number] = {
        runId: r.runId,
        group: groupOf(r, groupBy),
        status: r.status,
        epochs: r.epochs.length,
        // Runs that kept no batch records count their steps per epoch.
        steps: r.batches.length || r.epochs.reduce((n, e) => n + (typeof e.extra?.['batches'] === 'number' ? e.extra['batches'] : 0), 0),
      };
      const s = runDurationSeconds(r);
      if (s !== undefined) row.seconds = s;
      if (r.error !== undefined) row.note = r.error;
      return row;
    }),
    environment: environmentRows(input.environment ?? input.runs[0]?.environment, input.runs),
  };
  if (input.description !== undefined) report.description = input.description;
  return { report, html: renderHtml(report), markdown: renderMarkdown(report, 'figures') };
}
