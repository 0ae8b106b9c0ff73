import { BnlabError } from '@bnlab/core';
import type { ActivationTrace, BatchRecord, EpochRecord, RunStatus, TrainingRecord } from '@bnlab/core';

/** Schema version of the {@link TrainingRecord}s this package writes. */
export const RECORD_VERSION = 1;

/** The run statuses, in the order of the {@link RunStatus} union. */
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'completed', 'diverged', 'failed', 'interrupted'];

/**
 * Names of the optional per-epoch figures the recorder puts in {@link EpochRecord.extra}.
 * Flat string keys, so that each becomes one column of the epoch CSV.
 */
export const extraKeys = {
  /** Seconds spent evaluating validation and test sets and probes after the epoch. */
  evalSeconds: 'evalSeconds',
  /** Number of training batches in the epoch (fewer than planned when the run stopped early). */
  batches: 'batches',
  /** L2 norm of all gradients on the probe batch. */
  gradNormTotal: 'gradNorm/total',
  /** L2 norm of one layer's gradients (all its trainable weights) on the probe batch. */
  gradNorm: (layer: string): string => `gradNorm/${layer}`,
  /** Mean of a block's pre-activation outputs on the probe batch. */
  activationMean: (block: string): string => `preact/${block}/mean`,
  /** Standard deviation of a block's pre-activation outputs on the probe batch. */
  activationStd: (block: string): string => `preact/${block}/std`,
  /** Accuracy on the probe set with the model in training mode (batch statistics). */
  probeAccuracyTrainingMode: 'probe/trainingMode/accuracy',
  /** Loss on the probe set in training mode. */
  probeLossTrainingMode: 'probe/trainingMode/loss',
  /** Accuracy on the probe set in inference mode (moving statistics). */
  probeAccuracyInferenceMode: 'probe/inferenceMode/accuracy',
  /** Loss on the probe set in inference mode. */
  probeLossInferenceMode: 'probe/inferenceMode/loss',
  /** Batch norm: test accuracy with the moving averages (the headline figure with `statistics: 'moving'`). */
  bnMovingTestAccuracy: 'bn/moving/testAccuracy',
  /** Batch norm: test loss with the moving averages. */
  bnMovingTestLoss: 'bn/moving/testLoss',
  /** Batch norm: validation accuracy with the moving averages. */
  bnMovingValAccuracy: 'bn/moving/valAccuracy',
  /** Batch norm: validation loss with the moving averages. */
  bnMovingValLoss: 'bn/moving/valLoss',
  /** Batch norm: test accuracy with each evaluation batch's own statistics (as in training, dropout off). */
  bnBatchTestAccuracy: 'bn/batchStatistics/testAccuracy',
  /** Batch norm: test loss with each evaluation batch's own statistics. */
  bnBatchTestLoss: 'bn/batchStatistics/testLoss',
  /** Batch norm: test accuracy with batch statistics minus with the moving averages (the train/inference gap). */
  bnGapTestAccuracy: 'bn/gap/testAccuracy',
  /** Batch norm: training batches the precise statistics were computed over. */
  bnPreciseBatches: 'bn/precise/batches',
  /** Batch norm: training examples the precise statistics were computed over. */
  bnPreciseExamples: 'bn/precise/examples',
} as const;

/** Options of {@link createTrainingRecord}. */
export interface CreateRecordOptions {
  /** @default a new id from the time and a random suffix */
  runId?: string;
  /** @default {} */
  config?: Record<string, unknown>;
  /** Where the run runs (see `captureEnvironment`). */
  environment?: Record<string, unknown>;
  /** @default the current time */
  startedAt?: Date;
}

/** A new unique-enough run id: `run-<ISO time>-<6 random base-36 characters>`. */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `run-${stamp}-${Math.random().toString(36).slice(2, 8).padEnd(6, '0')}`;
}

/** An empty record of a run that is starting (`status: 'running'`). */
export function createTrainingRecord(options: CreateRecordOptions = {}): TrainingRecord {
  const startedAt = options.startedAt ?? new Date();
  const record: TrainingRecord = {
    version: RECORD_VERSION,
    runId: options.runId ?? newRunId(startedAt),
    config: options.config ?? {},
    status: 'running',
    batches: [],
    epochs: [],
    startedAt: startedAt.toISOString(),
  };
  if (options.environment !== undefined) record.environment = options.environment;
  return record;
}

/** Wall-clock duration of a finished run in seconds, or undefined while it runs. */
export function runDurationSeconds(record: TrainingRecord): number | undefined {
  if (record.finishedAt === undefined) return undefined;
  return (Date.parse(record.finishedAt) - Date.parse(record.startedAt)) / 1000;
}

// ---------------------------------------------------------------------------------------------
// Validation: turns untrusted JSON into a TrainingRecord or says exactly what is wrong.

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function fail(where: string, rule: string, value: unknown): never {
  throw new BnlabError('DATA_FORMAT', `${where} must be ${rule}, got ${describe(value)}`, { where });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown, where: string, decodeNonFinite: boolean): number {
  if (typeof v === 'number') return v;
  if (decodeNonFinite && typeof v === 'string' && v in NON_FINITE) return NON_FINITE[v] as number;
  // Plain JSON.stringify writes NaN and ±Infinity as null: read it back as NaN.
  if (decodeNonFinite && v === null) return NaN;
  return fail(where, 'a number', v);
}

function optNum(o: Record<string, unknown>, key: string, where: string, dec: boolean): number | undefined {
  const v = o[key];
  return v === undefined ? undefined : num(v, `${where}.${key}`, dec);
}

function int(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  return fail(where, 'an integer ≥ 0', v);
}

function str(v: unknown, where: string): string {
  if (typeof v === 'string') return v;
  return fail(where, 'a string', v);
}

function setIfDefined<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function validateBatch(v: unknown, where: string, dec: boolean): BatchRecord {
  if (!isPlainObject(v)) fail(where, 'an object', v);
  const b: BatchRecord = {
    step: int(v.step, `${where}.step`),
    epoch: int(v.epoch, `${where}.epoch`),
    batch: int(v.batch, `${where}.batch`),
    loss: num(v.loss, `${where}.loss`, dec),
  };
  setIfDefined(b, 'accuracy', optNum(v, 'accuracy', where, dec));
  setIfDefined(b, 'learningRate', optNum(v, 'learningRate', where, dec));
  return b;
}

const EPOCH_OPTIONAL = ['trainAccuracy', 'valLoss', 'valAccuracy', 'testLoss', 'testAccuracy', 'learningRate'] as const;

function validateEpoch(v: unknown, where: string, dec: boolean): EpochRecord {
  if (!isPlainObject(v)) fail(where, 'an object', v);
  const e: EpochRecord = {
    epoch: int(v.epoch, `${where}.epoch`),
    trainLoss: num(v.trainLoss, `${where}.trainLoss`, dec),
    seconds: num(v.seconds, `${where}.seconds`, dec),
    imagesPerSecond: num(v.imagesPerSecond, `${where}.imagesPerSecond`, dec),
  };
  for (const k of EPOCH_OPTIONAL) setIfDefined(e, k, optNum(v, k, where, dec));
  if (v.extra !== undefined) {
    if (!isPlainObject(v.extra)) fail(`${where}.extra`, 'an object', v.extra);
    const extra: Record<string, number | number[]> = {};
    for (const [k, x] of Object.entries(v.extra)) {
      const w = `${where}.extra[${JSON.stringify(k)}]`;
      extra[k] = Array.isArray(x) ? x.map((y, i) => num(y, `${w}[${i}]`, dec)) : num(x, w, dec);
    }
    e.extra = extra;
  }
  return e;
}

function validateTrace(v: unknown, where: string, dec: boolean): ActivationTrace {
  if (!isPlainObject(v)) fail(where, 'an object', v);
  const list = (x: unknown, w: string): unknown[] => (Array.isArray(x) ? x : fail(w, 'an array', x));
  const percentiles = list(v.percentiles, `${where}.percentiles`).map((p, i) => num(p, `${where}.percentiles[${i}]`, false));
  const steps = list(v.steps, `${where}.steps`).map((s, i) => int(s, `${where}.steps[${i}]`));
  const values = list(v.values, `${where}.values`).map((row, i) => {
    const r = list(row, `${where}.values[${i}]`).map((x, j) => num(x, `${where}.values[${i}][${j}]`, dec));
    if (r.length !== percentiles.length) fail(`${where}.values[${i}]`, `${percentiles.length} values (one per percentile)`, row);
    return r;
  });
  if (values.length !== steps.length) fail(`${where}.values`, `${steps.length} rows (one per step)`, v.values);
  return { block: str(v.block, `${where}.block`), unit: int(v.unit, `${where}.unit`), percentiles, steps, values };
}

/**
 * Checks that `value` (for example parsed JSON) is a {@link TrainingRecord} of a version this
 * package reads, and returns it typed. Throws a `DATA_FORMAT` {@link BnlabError} naming the
 * first wrong field (`record.batches[3].loss must be a number, got "abc"`).
 *
 * @param where how the value is named in error messages. @default 'record'
 * @param decodeNonFinite accept the strings `"NaN"`, `"Infinity"`, `"-Infinity"` in numeric
 *   fields (how the JSON exporter writes them) and turn them back into numbers, and `null`
 *   (how `JSON.stringify` writes them) as NaN. @default true
 */
export function validateTrainingRecord(value: unknown, where = 'record', decodeNonFinite = true): TrainingRecord {
  const dec = decodeNonFinite;
  if (!isPlainObject(value)) fail(where, 'an object', value);
  const version = value.version;
  if (version !== RECORD_VERSION) {
    if (typeof version === 'number' && Number.isInteger(version) && version > RECORD_VERSION) {
      throw new BnlabError(
        'DATA_FORMAT',
        `${where}.version is ${version}, newer than the version this @bnlab/metrics reads (${RECORD_VERSION}); upgrade @bnlab/metrics`,
        { where: `${where}.version` },
      );
    }
    fail(`${where}.version`, `${RECORD_VERSION}`, version);
  }
  const status = value.status;
  if (typeof status !== 'string' || !(RUN_STATUSES as readonly string[]).includes(status)) {
    fail(`${where}.status`, `one of ${RUN_STATUSES.map((s) => `'${s}'`).join(', ')}`, status);
  }
  if (!isPlainObject(value.config)) fail(`${where}.config`, 'an object', value.config);
  if (!Array.isArray(value.batches)) fail(`${where}.batches`, 'an array', value.batches);
  if (!Array.isArray(value.epochs)) fail(`${where}.epochs`, 'an array', value.epochs);
  const startedAt = str(value.startedAt, `${where}.startedAt`);
  if (Number.isNaN(Date.parse(startedAt))) fail(`${where}.startedAt`, 'an ISO date', startedAt);
  const record: TrainingRecord = {
    version: RECORD_VERSION,
    runId: str(value.runId, `${where}.runId`),
    config: value.config,
    status: status as RunStatus,
    batches: value.batches.map((b, i) => validateBatch(b, `${where}.batches[${i}]`, dec)),
    epochs: value.epochs.map((e, i) => validateEpoch(e, `${where}.epochs[${i}]`, dec)),
    startedAt,
  };
  if (value.activationTraces !== undefined) {
    const w = `${where}.activationTraces`;
    if (!Array.isArray(value.activationTraces)) fail(w, 'an array', value.activationTraces);
    record.activationTraces = value.activationTraces.map((t, i) => validateTrace(t, `${w}[${i}]`, dec));
  }
  if (value.divergedAtStep !== undefined) record.divergedAtStep = int(value.divergedAtStep, `${where}.divergedAtStep`);
  if (value.error !== undefined) record.error = str(value.error, `${where}.error`);
  if (value.environment !== undefined) {
    if (!isPlainObject(value.environment)) fail(`${where}.environment`, 'an object', value.environment);
    record.environment = value.environment;
  }
  if (value.finishedAt !== undefined) {
    const f = str(value.finishedAt, `${where}.finishedAt`);
    if (Number.isNaN(Date.parse(f))) fail(`${where}.finishedAt`, 'an ISO date', f);
    record.finishedAt = f;
  }
  return record;
}
