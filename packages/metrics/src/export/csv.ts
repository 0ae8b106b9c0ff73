import type { TrainingRecord } from '@bnlab/core';
import { validateTrainingRecord } from '../record/record.js';

/** Options of the CSV exporters. */
export interface CsvOptions {
  /**
   * Which configuration fields to add as `config.<path>` columns (nested objects flattened
   * with dots, arrays as JSON): all of them, none, or the listed paths. @default 'all'
   */
  configColumns?: 'all' | 'none' | readonly string[];
}

/** A value of a CSV cell before it is written. */
export type CsvCell = string | number | boolean | null | undefined;

/**
 * One cell as text: numbers in shortest round-trip form, NaN and infinities as `NaN`,
 * `Infinity`, `-Infinity` (read as numbers by pandas, R and JavaScript's `Number`), missing
 * values empty, and RFC 4180 quoting where needed.
 */
function cell(v: CsvCell): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'number' ? (Number.isNaN(v) ? 'NaN' : String(v)) : String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function toCsv(header: readonly string[], rows: readonly CsvCell[][]): string {
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

/** Flattens a JSON configuration into `path → scalar` (arrays become JSON text). */
export function flattenConfig(config: Record<string, unknown>, prefix = ''): Record<string, CsvCell> {
  const out: Record<string, CsvCell> = {};
  for (const [k, v] of Object.entries(config)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenConfig(v as Record<string, unknown>, key));
    else if (Array.isArray(v)) out[key] = JSON.stringify(v);
    else if (v === undefined || typeof v === 'function') continue;
    else out[key] = v as CsvCell;
  }
  return out;
}

function configPaths(records: readonly TrainingRecord[], option: CsvOptions['configColumns']): string[] {
  if (option === 'none') return [];
  if (Array.isArray(option)) return [...(option as readonly string[])];
  const set = new Set<string>();
  for (const r of records) for (const k of Object.keys(flattenConfig(r.config))) set.add(k);
  return [...set].sort();
}

function asList(records: TrainingRecord | readonly TrainingRecord[]): readonly TrainingRecord[] {
  const list = Array.isArray(records) ? (records as readonly TrainingRecord[]) : [records as TrainingRecord];
  list.forEach((r, i) => validateTrainingRecord(r, `records[${i}]`, false));
  return list;
}

/** The fixed columns of the epoch CSV, after `runId`, `status` and the config columns. */
export const EPOCH_CSV_COLUMNS = [
  'epoch',
  'trainLoss',
  'trainAccuracy',
  'valLoss',
  'valAccuracy',
  'testLoss',
  'testAccuracy',
  'seconds',
  'imagesPerSecond',
  'learningRate',
] as const;

/** The fixed columns of the batch CSV, after `runId`, `status` and the config columns. */
export const BATCH_CSV_COLUMNS = ['step', 'epoch', 'batch', 'loss', 'accuracy', 'learningRate'] as const;

/**
 * A tidy CSV with one row per run × epoch: `runId`, `status`, the configuration as
 * `config.<path>` columns, the {@link EPOCH_CSV_COLUMNS}, then one column per `extra` figure
 * (arrays as `name[i]`). Reads directly into pandas (`pd.read_csv`), R (`read.csv`) or a
 * spreadsheet.
 */
export function epochsToCsv(records: TrainingRecord | readonly TrainingRecord[], options: CsvOptions = {}): string {
  const list = asList(records);
  const paths = configPaths(list, options.configColumns);
  const extraSet = new Set<string>();
  for (const r of list) {
    for (const e of r.epochs) {
      for (const [k, v] of Object.entries(e.extra ?? {})) {
        if (Array.isArray(v)) v.forEach((_, i) => extraSet.add(`${k}[${i}]`));
        else extraSet.add(k);
      }
    }
  }
  const extras = [...extraSet].sort();
  const header = ['runId', 'status', ...paths.map((p) => `config.${p}`), ...EPOCH_CSV_COLUMNS, ...extras];
  const rows: CsvCell[][] = [];
  for (const r of list) {
    const conf = flattenConfig(r.config);
    for (const e of r.epochs) {
      const flatExtra: Record<string, number> = {};
      for (const [k, v] of Object.entries(e.extra ?? {})) {
        if (Array.isArray(v)) v.forEach((x, i) => (flatExtra[`${k}[${i}]`] = x));
        else flatExtra[k] = v;
      }
      rows.push([
        r.runId,
        r.status,
        ...paths.map((p) => conf[p]),
        ...EPOCH_CSV_COLUMNS.map((c) => e[c]),
        ...extras.map((k) => flatExtra[k]),
      ]);
    }
  }
  return toCsv(header, rows);
}

/**
 * A tidy CSV with one row per run × batch: `runId`, `status`, the configuration as
 * `config.<path>` columns, then the {@link BATCH_CSV_COLUMNS}.
 */
export function batchesToCsv(records: TrainingRecord | readonly TrainingRecord[], options: CsvOptions = {}): string {
  const list = asList(records);
  const paths = configPaths(list, options.configColumns);
  const header = ['runId', 'status', ...paths.map((p) => `config.${p}`), ...BATCH_CSV_COLUMNS];
  const rows: CsvCell[][] = [];
  for (const r of list) {
    const flat = flattenConfig(r.config);
    const conf = paths.map((p) => flat[p]);
    for (const b of r.batches) rows.push([r.runId, r.status, ...conf, ...BATCH_CSV_COLUMNS.map((c) => b[c])]);
  }
  return toCsv(header, rows);
}

/**
 * A tidy CSV of the runs' {@link TrainingRecord.activationTraces}: one row per run × traced
 * unit × measurement: `runId`, `status`, the config columns, `block`, `unit`, `step`, then one
 * column per percentile (`p15`, `p50`, `p85`, …; the union over the traces). Empty (a header
 * only) when no run traced anything.
 */
export function activationTracesToCsv(records: TrainingRecord | readonly TrainingRecord[], options: CsvOptions = {}): string {
  const list = asList(records);
  const paths = configPaths(list, options.configColumns);
  const pset = new Set<number>();
  for (const r of list) for (const t of r.activationTraces ?? []) for (const p of t.percentiles) pset.add(p);
  const ps = [...pset].sort((a, b) => a - b);
  const header = ['runId', 'status', ...paths.map((p) => `config.${p}`), 'block', 'unit', 'step', ...ps.map((p) => `p${p}`)];
  const rows: CsvCell[][] = [];
  for (const r of list) {
    const flat = flattenConfig(r.config);
    const conf = paths.map((p) => flat[p]);
    for (const t of r.activationTraces ?? []) {
      t.steps.forEach((step, i) => {
        const row = t.values[i] as number[];
        rows.push([r.runId, r.status, ...conf, t.block, t.unit, step, ...ps.map((p) => row[t.percentiles.indexOf(p)])]);
      });
    }
  }
  return toCsv(header, rows);
}
