import { BnlabError } from '@bnlab/core';
import type { BatchRecord, EpochRecord, MetricsSink, RunStatus, TrainingRecord } from '@bnlab/core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { batchNormalizationLayers, recomputeBatchStatistics, withBatchStatistics } from '@bnlab/layers';
import type { InputBatch } from '@bnlab/layers';
import { captureEnvironment } from '../record/environment.js';
import { createTrainingRecord, extraKeys } from '../record/record.js';
import { DivergenceDetector, type DivergenceOptions, type DivergenceVerdict } from './divergence.js';
import { compiledLoss, evaluateModel, preservingState, type LabelledData, type LabelledTensors, type LossFunction } from './evaluate.js';
import { activationStats, activationStatsToExtra, gradientNorms, gradientNormsToExtra } from './probes.js';
import { ActivationTracer, type ActivationTraceOptions } from './activation_trace.js';
import { RecorderCallback } from './recorder_callback.js';

/** Seed of the order test batches are evaluated in with batch statistics. */
const BATCH_STATISTICS_SEED = 0x5eed;

/**
 * Which statistics batch normalization uses when the recorder evaluates a model that has it,
 * and the figures recorded beside them.
 */
export interface BatchNormEvaluation {
  /**
   * `'precise'`: before each evaluation the population statistics of the current weights are
   * recomputed over training batches (`recomputeBatchStatistics` of `@bnlab/layers`) and the
   * headline validation and test figures use them; the moving averages are put back after the
   * evaluation, so training is unchanged, and once more recomputed when the run completes, so
   * the trained model carries precise statistics. `'moving'`: the moving averages, as Keras
   * and tfjs evaluate.
   */
  statistics: 'moving' | 'precise';
  /** The training batches precise statistics are computed over, made afresh for each evaluation. Required with `'precise'`. */
  batches?: () => Iterable<InputBatch> | AsyncIterable<InputBatch>;
  /** Use at most this many of them. @default all */
  maxBatches?: number;
  /** Dispose of each batch after use (batches made on the fly). @default true */
  disposeBatches?: boolean;
  /** Batch size of the batch-statistics evaluation: use the training batch size. @default evalBatchSize */
  batchStatisticsBatchSize?: number;
}

/** Options of a {@link TrainingRecorder}. Everything costly is off by default. */
export interface TrainingRecorderOptions {
  /** @default a fresh id */
  runId?: string;
  /** The configuration the run was made from (plain JSON), kept in the record. @default {} */
  config?: Record<string, unknown>;
  /** Where the run runs. @default captureEnvironment() at the start of the run */
  environment?: Record<string, unknown>;
  /** The model; set automatically when the recorder is used as a `fit` callback. */
  model?: LayersModel;
  /** The loss for evaluation and probes. @default the model's compiled loss */
  loss?: LossFunction;
  /** Evaluated after every epoch in inference mode (unless `fit` already reported `val_loss`). */
  validation?: LabelledData;
  /** Evaluated after every epoch in inference mode. */
  test?: LabelledData;
  /** Batch size of evaluation. @default 256 */
  evalBatchSize?: number;
  /**
   * A fixed probe batch (e.g. 128–256 held-out examples) for the optional figures below;
   * required when one of them is on.
   */
  probe?: LabelledTensors;
  /**
   * Keep every batch's {@link BatchRecord} in the record. With `false` the record holds the
   * epochs only (long runs: 50,000 batch records are about 5 MB of JSON); sinks still get every
   * batch, and the divergence detector still watches them. @default true
   */
  batches?: boolean;
  /** Per-layer gradient L2 norms on the probe batch after each epoch. @default false */
  gradientNorms?: boolean;
  /** Mean and std of each conv/dense block's pre-activation outputs on the probe batch. @default false */
  activationStats?: boolean;
  /**
   * Probe accuracy and loss in training mode (batch statistics) and in inference mode
   * (moving statistics) after each epoch. @default false
   */
  trainVsInference?: boolean;
  /**
   * When the run counts as diverged. Chance level defaults to ln K with K the width of the
   * model's output. `false` turns detection off. @default { patience: 50 }
   */
  divergence?: DivergenceOptions | false;
  /** Receive every batch, epoch and the final record as they are made. */
  sinks?: MetricsSink[];
  /** A clock in milliseconds. @default performance.now */
  now?: () => number;
  /** The current learning rate. @default the model optimizer's `getConfig().learningRate` */
  learningRate?: () => number | undefined;
  /**
   * For a model with batch normalization: which statistics the headline figures use, and
   * the test accuracy with the moving averages and with batch statistics recorded beside
   * them each epoch (`extraKeys.bnMovingTestAccuracy`, `bnBatchTestAccuracy`,
   * `bnGapTestAccuracy`). Models without batch normalization are evaluated as usual.
   * @default none: the moving averages, and no extra figures
   */
  batchNorm?: BatchNormEvaluation;
  /**
   * Percentiles of some units' pre-activation inputs in one block over fixed examples,
   * measured before training and every `every` steps (Ioffe & Szegedy 2015, Figure 1 b, c);
   * kept in the record's `activationTraces`. @default none
   */
  activationTrace?: ActivationTraceOptions;
}

/** One training step's figures, as a custom loop measures them. */
export interface BatchMeasurement {
  /** The batch's mean loss (NaN or infinite when it blew up). */
  loss: number;
  /** The batch's accuracy in [0, 1], when measured. */
  accuracy?: number;
  /** Number of examples in the batch. */
  size: number;
}

/** Figures the trainer already has for the epoch (for example `fit`'s `val_loss`). */
export type EpochFigures = Partial<Pick<EpochRecord, 'valLoss' | 'valAccuracy' | 'testLoss' | 'testAccuracy'>>;

/**
 * Records a training run: loss and accuracy per batch; per epoch the train figures,
 * validation and test loss and accuracy in inference mode, wall time, images per second and
 * learning rate; optionally gradient norms, pre-activation statistics and training- vs
 * inference-mode accuracy on a probe batch. It stops a run that diverges and keeps its
 * record with status `'diverged'`.
 *
 * Use it as a `fit`/`fitDataset` callback:
 * ```ts
 * const rec = new TrainingRecorder({ config, test: { xs: testX, ys: testY } });
 * await model.fit(x, y, { epochs: 3, batchSize: 64, validationSplit: 0.1, callbacks: rec.callback() });
 * const record = rec.record;
 * ```
 * or in a custom loop:
 * ```ts
 * await rec.begin(model);
 * for (let e = 0; e < epochs && !rec.shouldStop; e++) {
 *   rec.beginEpoch(e);
 *   for await (const b of train.batches({ batchSize: 64 })) {
 *     const { loss, accuracy } = await step(b);
 *     await rec.recordBatch({ loss, accuracy, size: b.size });
 *     if (rec.shouldStop) break;
 *   }
 *   await rec.endEpoch();
 * }
 * const record = await rec.end();
 * ```
 * It also is a {@link MetricsSink}: a trainer that makes its own {@link BatchRecord}s and
 * {@link EpochRecord}s can push them in with `onBatch` / `onEpoch`.
 */
export class TrainingRecorder implements MetricsSink {
  private readonly options: TrainingRecorderOptions;
  private readonly now: () => number;
  private model: LayersModel | undefined;
  private detector: DivergenceDetector | undefined;
  private current: TrainingRecord;
  private started = false;
  private ended = false;
  private stopRequested = false;
  private interrupted = false;
  private step = 0;
  private epoch = 0;
  private batchInEpoch = 0;
  private epochOpen = false;
  private nextEpoch = 0;
  private epochStart = 0;
  private lastBatchEnd = 0;
  private epochLossSum = 0;
  private epochAccSum = 0;
  private epochAccWeight = 0;
  private epochWeight = 0;
  private epochImages = 0;
  private epochTraceMs = 0;
  private hasBatchNorm: boolean | undefined;
  private tracer: ActivationTracer | undefined;

  constructor(options: TrainingRecorderOptions = {}) {
    this.options = { ...options };
    const needProbe = options.gradientNorms || options.activationStats || options.trainVsInference;
    if (needProbe && !options.probe) {
      throw new BnlabError(
        'INVALID_CONFIG',
        'probe: gradientNorms, activationStats and trainVsInference need a probe batch ({ xs, ys }); none was given',
        { where: 'probe' },
      );
    }
    if (options.batchNorm?.statistics === 'precise' && typeof options.batchNorm.batches !== 'function') {
      throw new BnlabError(
        'INVALID_CONFIG',
        'batchNorm.batches: precise batch-norm statistics need the training batches to compute them over (a function returning an iterable of batches); none was given',
        { where: 'batchNorm.batches' },
      );
    }
    this.now = options.now ?? (() => performance.now());
    this.model = options.model;
    const init: Parameters<typeof createTrainingRecord>[0] = { config: options.config ?? {} };
    if (options.runId !== undefined) init.runId = options.runId;
    this.current = createTrainingRecord(init);
  }

  /** The record so far (live: do not modify it). */
  get record(): TrainingRecord {
    return this.current;
  }

  /** True once the run should stop: it diverged or {@link interrupt} was called. */
  get shouldStop(): boolean {
    return this.stopRequested;
  }

  /** Why the run diverged, once it has. */
  get divergence(): DivergenceVerdict | undefined {
    return this.detector?.diverged;
  }

  /** A tfjs-layers callback for `model.fit` / `model.fitDataset` feeding this recorder. */
  callback(): RecorderCallback {
    return new RecorderCallback(this);
  }

  /**
   * Starts the run (called by the callback's `onTrainBegin`). With `resumeFrom`, the record of
   * the same run saved at the end of an epoch (a checkpoint), the run goes on from there: its
   * batches and epochs are kept, the next batch is the step after its last one, the next epoch
   * the one after its last, and the divergence detector has seen its losses. The environment
   * lists each resume under `resumes` (`{ epoch, at }`: the first epoch run again, and when).
   */
  async begin(model?: LayersModel, options: { resumeFrom?: TrainingRecord } = {}): Promise<void> {
    if (this.started) {
      throw new BnlabError('INVALID_ARGUMENT', `run ${this.current.runId} has already started; use one recorder per run`, {
        where: 'begin',
      });
    }
    this.started = true;
    if (model) this.model = model;
    this.current.startedAt = new Date().toISOString();
    this.current.environment = this.options.environment ?? captureEnvironment();
    this.detector = this.makeDetector();
    if (this.options.activationTrace) {
      this.tracer = new ActivationTracer(this.needModel('activationTrace'), this.options.activationTrace);
      this.current.activationTraces = this.tracer.traces;
    }
    if (options.resumeFrom) this.resume(options.resumeFrom);
    if (this.tracer?.due(this.step)) await this.tracer.measure(this.step);
    for (const s of this.options.sinks ?? []) {
      await s.onRunStart?.({ runId: this.current.runId, config: this.current.config });
    }
  }

  /** Takes over a saved record of this run (see {@link begin}). */
  private resume(saved: TrainingRecord): void {
    const where = 'resumeFrom';
    if (saved.runId !== this.current.runId) {
      throw new BnlabError('INVALID_ARGUMENT', `${where}: the saved record is of run ${saved.runId}, not ${this.current.runId}`, { where });
    }
    if (saved.status !== 'running') {
      throw new BnlabError(
        'INVALID_ARGUMENT',
        `${where}: the saved record of run ${saved.runId} is ${saved.status}; only a running record can be resumed`,
        { where },
      );
    }
    const lastEpoch = saved.epochs[saved.epochs.length - 1];
    const lastBatch = saved.batches[saved.batches.length - 1];
    if (lastEpoch === undefined || (lastBatch !== undefined && lastBatch.epoch !== lastEpoch.epoch)) {
      throw new BnlabError('INVALID_ARGUMENT', `${where}: the saved record of run ${saved.runId} does not end at the end of an epoch`, {
        where,
      });
    }
    this.current.batches = saved.batches.map((b) => ({ ...b }));
    this.current.epochs = saved.epochs.map((e) => ({ ...e }));
    this.current.startedAt = saved.startedAt;
    const resumes = Array.isArray(saved.environment?.['resumes']) ? (saved.environment['resumes'] as unknown[]) : [];
    this.current.environment = {
      ...this.current.environment,
      resumes: [...resumes, { epoch: lastEpoch.epoch + 1, at: new Date().toISOString() }],
    };
    // Without batch records (`batches: false`), the epochs say how many steps were made.
    this.step = lastBatch
      ? lastBatch.step + 1
      : saved.epochs.reduce((n, e) => n + (typeof e.extra?.['batches'] === 'number' ? e.extra['batches'] : 0), 0);
    this.nextEpoch = lastEpoch.epoch + 1;
    this.tracer?.resume(saved.activationTraces);
    for (const b of this.current.batches) this.detector?.update(b.step, b.loss);
  }

  /** {@link MetricsSink} entry: same as {@link begin}. */
  async onRunStart(info: { runId: string; config: Record<string, unknown> }): Promise<void> {
    this.current.runId = info.runId;
    this.current.config = info.config;
    await this.begin();
  }

  private makeDetector(): DivergenceDetector | undefined {
    const opt = this.options.divergence;
    if (opt === false) return undefined;
    const o: DivergenceOptions = { ...opt };
    if (o.numClasses === undefined && o.chanceLoss === undefined && this.model) {
      const shape = this.model.outputs[0]?.shape;
      const k = shape?.[shape.length - 1];
      if (typeof k === 'number' && k >= 2) o.numClasses = k;
    }
    return new DivergenceDetector(o);
  }

  private ensureStarted(where: string): void {
    if (!this.started) {
      throw new BnlabError('INVALID_ARGUMENT', `${where} was called before begin(); start the run first`, { where });
    }
    if (this.ended) {
      throw new BnlabError('INVALID_ARGUMENT', `${where} was called after end(); the run ${this.current.runId} is over`, {
        where,
      });
    }
  }

  /** Marks the start of epoch `epoch` (0-based) and starts its clock. */
  beginEpoch(epoch: number): void {
    this.ensureStarted('beginEpoch');
    this.epoch = epoch;
    this.batchInEpoch = 0;
    this.epochLossSum = 0;
    this.epochAccSum = 0;
    this.epochAccWeight = 0;
    this.epochWeight = 0;
    this.epochImages = 0;
    this.epochTraceMs = 0;
    this.epochStart = this.now();
    this.lastBatchEnd = this.epochStart;
    this.epochOpen = true;
    this.nextEpoch = epoch + 1;
  }

  private learningRate(): number | undefined {
    if (this.options.learningRate) return this.options.learningRate();
    try {
      const lr = (this.model?.optimizer?.getConfig() as { learningRate?: unknown } | undefined)?.learningRate;
      return typeof lr === 'number' ? lr : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records one training step measured by the caller. */
  async recordBatch(m: BatchMeasurement): Promise<BatchRecord> {
    this.ensureStarted('recordBatch');
    if (!this.epochOpen) this.beginEpoch(this.nextEpoch);
    if (!Number.isInteger(m.size) || m.size < 1) {
      throw new BnlabError('INVALID_ARGUMENT', `batch size must be an integer ≥ 1, got ${m.size}`, { where: 'size' });
    }
    const record: BatchRecord = { step: this.step, epoch: this.epoch, batch: this.batchInEpoch, loss: m.loss };
    if (m.accuracy !== undefined) record.accuracy = m.accuracy;
    const lr = this.learningRate();
    if (lr !== undefined) record.learningRate = lr;
    await this.ingestBatch(record, m.size);
    return record;
  }

  /**
   * {@link MetricsSink} entry: stores a batch record made elsewhere. Without batch sizes,
   * each batch weighs the same in the epoch means and images/s is not known.
   */
  async onBatch(record: BatchRecord): Promise<void> {
    this.ensureStarted('onBatch');
    if (!this.epochOpen || record.epoch !== this.epoch) this.beginEpoch(record.epoch);
    await this.ingestBatch({ ...record }, undefined);
  }

  private async ingestBatch(record: BatchRecord, size: number | undefined): Promise<void> {
    if (this.options.batches !== false) this.current.batches.push(record);
    this.lastBatchEnd = this.now();
    const w = size ?? 1;
    this.epochLossSum += record.loss * w;
    this.epochWeight += w;
    this.epochImages += size ?? 0;
    if (record.accuracy !== undefined) {
      this.epochAccSum += record.accuracy * w;
      this.epochAccWeight += w;
    }
    this.step = record.step + 1;
    this.batchInEpoch = record.batch + 1;
    if (this.tracer?.due(this.step)) {
      // Measuring is not training: its time is kept out of the epoch's seconds and images/s.
      const start = this.now();
      await this.tracer.measure(this.step);
      this.lastBatchEnd = this.now();
      this.epochTraceMs += this.lastBatchEnd - start;
    }
    const verdict = this.detector?.update(record.step, record.loss);
    if (verdict && this.current.status !== 'diverged') {
      this.current.status = 'diverged';
      this.current.divergedAtStep = verdict.step;
      this.current.error = verdict.message;
      this.stopRequested = true;
    }
    for (const s of this.options.sinks ?? []) await s.onBatch(record);
  }

  /**
   * Ends the current epoch: averages the train figures over its batches, evaluates the
   * validation and test sets in inference mode (unless `figures` already has them) and runs
   * the optional probes. Returns the epoch record, or `undefined` when the epoch had no batch.
   */
  async endEpoch(figures: EpochFigures = {}): Promise<EpochRecord | undefined> {
    this.ensureStarted('endEpoch');
    const batches = this.batchInEpoch;
    this.epochOpen = false;
    if (this.epochWeight === 0) return undefined;
    const seconds = (this.lastBatchEnd - this.epochStart - this.epochTraceMs) / 1000;
    const record: EpochRecord = {
      epoch: this.epoch,
      trainLoss: this.epochLossSum / this.epochWeight,
      seconds,
      imagesPerSecond: seconds > 0 && this.epochImages > 0 ? this.epochImages / seconds : NaN,
    };
    if (this.epochAccWeight > 0) record.trainAccuracy = this.epochAccSum / this.epochAccWeight;
    const evalStart = this.now();
    const model = this.model;
    const o = this.options;
    const evalOpts = (): { loss: LossFunction; batchSize: number } => ({
      loss: o.loss ?? compiledLoss(model as LayersModel),
      batchSize: o.evalBatchSize ?? 256,
    });
    if (figures.valLoss !== undefined) record.valLoss = figures.valLoss;
    if (figures.valAccuracy !== undefined) record.valAccuracy = figures.valAccuracy;
    if (figures.testLoss !== undefined) record.testLoss = figures.testLoss;
    if (figures.testAccuracy !== undefined) record.testAccuracy = figures.testAccuracy;
    const extra: Record<string, number> = { [extraKeys.batches]: batches };
    const bn = this.batchNormEvaluation();
    const evaluate = async (): Promise<void> => {
      if (o.validation && (record.valLoss === undefined || bn?.statistics === 'precise')) {
        const r = await evaluateModel(this.needModel('validation'), o.validation, evalOpts());
        record.valLoss = r.loss;
        record.valAccuracy = r.accuracy;
      }
      if (o.test && (record.testLoss === undefined || bn?.statistics === 'precise')) {
        const r = await evaluateModel(this.needModel('test'), o.test, evalOpts());
        record.testLoss = r.loss;
        record.testAccuracy = r.accuracy;
      }
    };
    if (bn && model) {
      // The moving averages first: they are what the model holds.
      await evaluate();
      if (record.testAccuracy !== undefined) extra[extraKeys.bnMovingTestAccuracy] = record.testAccuracy;
      if (record.testLoss !== undefined) extra[extraKeys.bnMovingTestLoss] = record.testLoss;
      if (record.valAccuracy !== undefined) extra[extraKeys.bnMovingValAccuracy] = record.valAccuracy;
      if (record.valLoss !== undefined) extra[extraKeys.bnMovingValLoss] = record.valLoss;
      if (bn.statistics === 'precise') {
        await preservingState(model, async () => {
          const r = await this.recomputePrecise(model, bn);
          extra[extraKeys.bnPreciseBatches] = r.batches;
          extra[extraKeys.bnPreciseExamples] = r.examples;
          await evaluate();
        });
      }
      if (o.test) {
        const r = await withBatchStatistics(model, () =>
          // Shuffled (the same order every epoch and run): test sets stored class by class would
          // otherwise give batches of one class, each normalized by that class's statistics.
          evaluateModel(model, o.test as LabelledData, {
            ...evalOpts(),
            batchSize: bn.batchStatisticsBatchSize ?? evalOpts().batchSize,
            shuffleSeed: BATCH_STATISTICS_SEED,
          }),
        );
        extra[extraKeys.bnBatchTestAccuracy] = r.accuracy;
        extra[extraKeys.bnBatchTestLoss] = r.loss;
        const moving = extra[extraKeys.bnMovingTestAccuracy];
        if (moving !== undefined) extra[extraKeys.bnGapTestAccuracy] = r.accuracy - moving;
      }
    } else {
      await evaluate();
    }
    if (o.probe && o.trainVsInference) {
      const m = this.needModel('trainVsInference');
      const probe = o.probe;
      const inf = await evaluateModel(m, probe, { ...evalOpts(), training: false });
      const trn = await evaluateModel(m, probe, { ...evalOpts(), training: true });
      extra[extraKeys.probeAccuracyTrainingMode] = trn.accuracy;
      extra[extraKeys.probeLossTrainingMode] = trn.loss;
      extra[extraKeys.probeAccuracyInferenceMode] = inf.accuracy;
      extra[extraKeys.probeLossInferenceMode] = inf.loss;
    }
    if (o.probe && o.activationStats) {
      activationStatsToExtra(await activationStats(this.needModel('activationStats'), o.probe.xs, true), extra);
    }
    if (o.probe && o.gradientNorms) {
      gradientNormsToExtra(await gradientNorms(this.needModel('gradientNorms'), o.probe, evalOpts().loss), extra);
    }
    const lr = this.learningRate();
    if (lr !== undefined) record.learningRate = lr;
    extra[extraKeys.evalSeconds] = (this.now() - evalStart) / 1000;
    record.extra = extra;
    await this.onEpochStore(record);
    return record;
  }

  /** The batch-norm evaluation in force: the option, when the model has batch normalization. */
  private batchNormEvaluation(): BatchNormEvaluation | undefined {
    const bn = this.options.batchNorm;
    if (!bn || !this.model) return undefined;
    if (this.hasBatchNorm === undefined) this.hasBatchNorm = batchNormalizationLayers(this.model).length > 0;
    return this.hasBatchNorm ? bn : undefined;
  }

  private recomputePrecise(model: LayersModel, bn: BatchNormEvaluation) {
    return recomputeBatchStatistics(model, (bn.batches as NonNullable<BatchNormEvaluation['batches']>)(), {
      ...(bn.maxBatches !== undefined ? { maxBatches: bn.maxBatches } : {}),
      disposeBatches: bn.disposeBatches ?? true,
    });
  }

  private needModel(what: string): LayersModel {
    if (!this.model) {
      throw new BnlabError('INVALID_CONFIG', `${what} needs the model: pass options.model or begin(model)`, { where: 'model' });
    }
    return this.model;
  }

  /** {@link MetricsSink} entry: stores an epoch record made elsewhere. */
  async onEpoch(record: EpochRecord): Promise<void> {
    this.ensureStarted('onEpoch');
    this.epochOpen = false;
    await this.onEpochStore({ ...record });
  }

  private async onEpochStore(record: EpochRecord): Promise<void> {
    this.current.epochs.push(record);
    for (const s of this.options.sinks ?? []) await s.onEpoch(record);
  }

  /** Asks the run to stop; it ends with status `'interrupted'` (unless it diverged). */
  interrupt(): void {
    this.interrupted = true;
    this.stopRequested = true;
  }

  /**
   * Ends the run and returns its record: status `'diverged'` if it diverged, else
   * `'interrupted'` after {@link interrupt}, else `status` (default `'completed'`).
   */
  async end(status: Exclude<RunStatus, 'running' | 'diverged'> = 'completed'): Promise<TrainingRecord> {
    if (!this.started) await this.begin();
    if (this.ended) return this.current;
    this.ended = true;
    if (this.current.status !== 'diverged') this.current.status = this.interrupted ? 'interrupted' : status;
    const bn = this.batchNormEvaluation();
    if (bn?.statistics === 'precise' && this.current.status === 'completed' && this.model) {
      // The trained model keeps the population statistics it was evaluated with.
      await this.recomputePrecise(this.model, bn);
    }
    this.current.finishedAt = new Date().toISOString();
    for (const s of this.options.sinks ?? []) await s.onRunEnd?.(this.current);
    return this.current;
  }

  /** {@link MetricsSink} entry: ends the run, taking the status of `record` when it is final. */
  async onRunEnd(record: TrainingRecord): Promise<void> {
    const s = record.status;
    await this.end(s === 'failed' || s === 'interrupted' || s === 'completed' ? s : 'completed');
  }

  /** Ends the run with status `'failed'` and the error's message; the record so far is kept. */
  async fail(error: unknown): Promise<TrainingRecord> {
    if (!this.ended && this.current.status !== 'diverged') {
      this.current.error = error instanceof Error ? error.message : String(error);
    }
    return this.end('failed');
  }
}
