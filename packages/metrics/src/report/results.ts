import type { TrainingRecord } from '@bnlab/core';
import { BnlabError } from '@bnlab/core';
import { MIN_VALUES_FOR_INTERVAL, meanCI, type MeanCI } from '../stats/summary.js';
import { epochValue, isAccuracy, isLeftOut, metricTitle, type EpochMetric } from '../plots/series.js';
import { extraKeys } from '../record/record.js';

/** The range an accuracy (or any figure shown as percent) can take. */
const PERCENT_RANGE: [number, number] = [0, 1];

/** A column of the results table: one figure per run, summarized over the runs of a group. */
export interface ResultMetric {
  /** Column heading. @default a title derived from `metric` and `at` */
  label?: string;
  /** The epoch figure. */
  metric: EpochMetric;
  /**
   * Which epoch's value a run contributes: the last finite one, the highest, the lowest or
   * the mean over epochs (non-finite values are skipped in each case). @default 'last'
   */
  at?: 'last' | 'max' | 'min' | 'mean';
  /** Show as percent. @default true for accuracies */
  percent?: boolean;
  /**
   * The values a figure can take: an interval passing them is cut there and marked.
   * @default [0, 1] for percent columns, none otherwise
   */
  range?: [number, number];
}

/** How runs are grouped into the rows of a results table. */
export type GroupBy = string | ((record: TrainingRecord) => string);

/** One row of the results table: a group of runs (e.g. one variant over seeds). */
export interface ResultRow {
  /** The group's label. */
  group: string;
  /** Number of runs in the group, including the left-out ones. */
  runs: number;
  /** How many of them diverged (they count, with the values they reached). */
  diverged: number;
  /** How many of them are left out of the statistics because they did not finish (status `'failed'` or `'interrupted'`). */
  leftOut: number;
  /**
   * One summary per column, in the order of the table's metrics, over the runs that finished;
   * `n` is the number of runs that entered the mean (a run without a finite value is left out).
   */
  cells: MeanCI[];
}

/** The results table of an experiment. */
export interface ResultsTable {
  /** The columns, with defaults resolved. */
  columns: Array<Required<Pick<ResultMetric, 'label' | 'metric' | 'at' | 'percent'>> & Pick<ResultMetric, 'range'>>;
  /** One row per group, in order of first appearance. */
  rows: ResultRow[];
  /** Confidence level of the intervals. */
  level: number;
}

/** The value at `path` (dots) in a JSON object. */
export function configValue(config: Record<string, unknown>, path: string): unknown {
  let v: unknown = config;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** The group of a run: `groupBy` applied, or (for a path) the config value as text. */
export function groupOf(record: TrainingRecord, groupBy: GroupBy): string {
  if (typeof groupBy === 'function') return groupBy(record);
  const v = configValue(record.config, groupBy);
  return v === undefined ? record.runId : typeof v === 'string' ? v : JSON.stringify(v);
}

/** Runs grouped in order of first appearance. */
export function groupRuns(records: readonly TrainingRecord[], groupBy: GroupBy): Array<{ label: string; records: TrainingRecord[] }> {
  const map = new Map<string, TrainingRecord[]>();
  for (const r of records) {
    const g = groupOf(r, groupBy);
    map.set(g, [...(map.get(g) ?? []), r]);
  }
  return [...map.entries()].map(([label, recs]) => ({ label, records: recs }));
}

/**
 * The value a run contributes to a column, from its finite epoch values (a diverged run's
 * `'last'` is the value it reached before diverging); NaN when it has none.
 */
export function runValue(r: TrainingRecord, m: EpochMetric, at: NonNullable<ResultMetric['at']>): number {
  const finite = r.epochs.map((e) => epochValue(e, m)).filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (finite.length === 0) return NaN;
  if (at === 'last') return finite[finite.length - 1] as number;
  if (at === 'max') return Math.max(...finite);
  if (at === 'min') return Math.min(...finite);
  return finite.reduce((a, b) => a + b, 0) / finite.length;
}

const AT_WORDS = { last: 'final', max: 'best', min: 'lowest', mean: 'mean' } as const;

/** The default columns: final test and validation figures, training loss and speed, where the runs have them. */
export function defaultResultMetrics(records: readonly TrainingRecord[]): ResultMetric[] {
  const has = (m: EpochMetric): boolean => records.some((r) => r.epochs.some((e) => epochValue(e, m) !== undefined));
  const out: ResultMetric[] = [];
  const precise = has(extraKeys.bnPreciseBatches);
  if (has('testAccuracy'))
    out.push(precise ? { metric: 'testAccuracy', label: 'Final test accuracy (BN: precise statistics)' } : { metric: 'testAccuracy' });
  if (has(extraKeys.bnBatchTestAccuracy)) {
    // Batch norm's train/inference gap, measured: the same test set with the moving averages
    // and with each batch's own statistics (as in training).
    out.push(
      { metric: extraKeys.bnMovingTestAccuracy, label: 'BN: with moving averages' },
      { metric: extraKeys.bnBatchTestAccuracy, label: 'BN: with batch statistics' },
      { metric: extraKeys.bnGapTestAccuracy, label: 'BN gap: batch statistics − moving averages', percent: true, range: [-1, 1] },
    );
  }
  if (has('valAccuracy')) out.push({ metric: 'valAccuracy' }, { metric: 'valAccuracy', at: 'max' });
  if (has('testLoss')) out.push({ metric: 'testLoss' });
  if (has('trainLoss')) out.push({ metric: 'trainLoss' });
  if (has('seconds')) out.push({ metric: 'seconds', at: 'mean', label: 'Seconds per epoch' });
  return out;
}

/**
 * The results table: one row per group of runs, one column per metric, each cell the mean
 * over the group's runs with its `level` confidence interval (Student's t, n − 1 degrees of
 * freedom). Each run contributes its last finite value (or its highest, lowest or mean one,
 * per `at`). Diverged runs count with the values they reached: their last value before the
 * loss became NaN. Runs that failed or were interrupted did not finish: they are left out of
 * every cell and counted in the row's `leftOut`. A run with no finite value for a column is
 * left out of that cell; each cell's `n` says how many runs entered its mean.
 */
export function resultsTable(
  records: readonly TrainingRecord[],
  options: { groupBy?: GroupBy; metrics?: ResultMetric[]; level?: number } = {},
): ResultsTable {
  if (records.length === 0) throw new BnlabError('INVALID_ARGUMENT', 'a results table needs at least one run, got none', { where: 'runs' });
  const level = options.level ?? 0.95;
  const metrics = options.metrics ?? defaultResultMetrics(records);
  const columns = metrics.map((m) => {
    const at = m.at ?? 'last';
    const title = metricTitle(m.metric);
    const percent = m.percent ?? isAccuracy(m.metric);
    const range = m.range ?? (percent ? PERCENT_RANGE : undefined);
    return {
      metric: m.metric,
      at,
      percent,
      ...(range ? { range } : {}),
      label: m.label ?? `${AT_WORDS[at][0]!.toUpperCase()}${AT_WORDS[at].slice(1)} ${title[0]!.toLowerCase()}${title.slice(1)}`,
    };
  });
  const rows = groupRuns(records, options.groupBy ?? defaultGroupBy(records)).map((g) => {
    const finished = g.records.filter((r) => !isLeftOut(r));
    return {
      group: g.label,
      runs: g.records.length,
      diverged: g.records.filter((r) => r.status === 'diverged').length,
      leftOut: g.records.length - finished.length,
      cells: columns.map((c) =>
        meanCI(
          finished.map((r) => runValue(r, c.metric, c.at)),
          level,
        ),
      ),
    };
  });
  return { columns, rows, level };
}

/** `'variant'` when the runs' configs have one, else the run id. */
export function defaultGroupBy(records: readonly TrainingRecord[]): GroupBy {
  return records.every((r) => configValue(r.config, 'variant') !== undefined) ? 'variant' : (r: TrainingRecord) => r.runId;
}

function sig(v: number, digits: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const mag = Math.floor(Math.log10(Math.abs(v)));
  const decimals = Math.max(0, digits - 1 - mag);
  return decimals > 8 ? v.toExponential(digits - 1) : v.toFixed(decimals);
}

/**
 * A summary as text: `97.81 ± 0.12 %` (percent), `0.0712 ± 0.0031`, a bare value for one
 * run, the mean and range of the values for two (`96.93 % (96.80–97.06)`: a t-interval with
 * one degree of freedom says nothing), `—` when no run has a finite value. An interval that
 * would leave `range` (default: [0, 1] for percent) is cut there and its cut ends marked `†`:
 * `24.78 % (CI 0.00†–71.20)`.
 */
export function formatMeanCI(
  c: MeanCI,
  percent: boolean,
  range: [number, number] | undefined = percent ? PERCENT_RANGE : undefined,
): string {
  if (c.n === 0) return '—';
  const scale = percent ? 100 : 1;
  const unit = percent ? ' %' : '';
  if (c.n < MIN_VALUES_FOR_INTERVAL || !Number.isFinite(c.halfWidth)) {
    const one = (v: number) => (percent ? (100 * v).toFixed(2) : sig(v, 4));
    if (c.n === 1 || !Number.isFinite(c.min) || c.min === c.max) return `${one(c.mean)}${unit}`;
    return `${one(c.mean)}${unit} (${one(c.min)}–${one(c.max)})`;
  }
  // As many decimals as the interval needs (two significant digits of the half-width).
  const hwMag = c.halfWidth > 0 ? Math.floor(Math.log10(c.halfWidth * scale)) : -4;
  const decimals = percent ? 2 : Math.min(8, Math.max(0, 1 - hwMag));
  const f = (v: number) => (v * scale).toFixed(decimals);
  if (range && (c.lower < range[0] || c.upper > range[1])) {
    const lo = c.lower < range[0] ? `${f(range[0])}†` : f(c.lower);
    const hi = c.upper > range[1] ? `${f(range[1])}†` : f(c.upper);
    return `${f(c.mean)}${unit} (CI ${lo}–${hi})`;
  }
  return `${f(c.mean)} ± ${f(c.halfWidth)}${unit}`;
}

/**
 * A results-table cell as text: {@link formatMeanCI}, followed by `(n = k)` when the mean is
 * over fewer runs than the row has (some were left out or had no finite value).
 */
export function formatResultCell(c: MeanCI, percent: boolean, runs: number, range?: [number, number]): string {
  const s = formatMeanCI(c, percent, range ?? (percent ? PERCENT_RANGE : undefined));
  return c.n > 0 && c.n < runs ? `${s} (n = ${c.n})` : s;
}

/** The sentences under a results table (HTML and Markdown alike). */
export function resultsNote(t: ResultsTable): string {
  const pct = Math.round(t.level * 100);
  return (
    `Mean over runs ± half-width of the ${pct}% confidence interval (Student's t with n − 1 degrees of freedom); a single run shows its value alone, and two runs their mean and range (an interval with one degree of freedom says nothing). ` +
    'An interval that would pass the values a figure can take (0% and 100% for an accuracy) is cut there (marked †). ' +
    'Each run contributes its last finite value (or its best, lowest or mean one, as the column says). ' +
    'Diverged runs count with the values they reached before diverging. ' +
    'Runs that failed or were interrupted did not finish: they are left out of the means and counted under “Left out”. ' +
    '“(n = k)” marks a mean over k runs, fewer than the row has.'
  );
}
