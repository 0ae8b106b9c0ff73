import * as tf from '@tensorflow/tfjs-core';
import { BnlabError, isBnlabError, Rng } from '@bnlab/core';
import type { BackendInfo } from '@bnlab/core';
import type { TrainingRecord } from '@bnlab/core';
import { fromSpec } from '@bnlab/models';
import { extraKeys, extractFeatureMaps, TrainingRecorder } from '@bnlab/metrics';
import { DEFAULT_PRECISE_BATCHES } from '../experiment/schema.js';
import { tooManyBatches, usesPreciseBatchNorm } from '../experiment/precise_batches.js';
import { runLength } from '../experiment/run_length.js';
import { scheduleProblems } from '../experiment/schedule_checks.js';
import { augmentationProblem } from '../experiment/augmentation_checks.js';
import type { Trial } from '../experiment/trials.js';
import type { TrialResult } from '../results/store.js';
import type { DataCache, TrialData } from './data.js';
import type { RunListener } from './events.js';
import { failedRecord, trialConfig } from './failed_record.js';
import { makeOptimizer } from './optimizer.js';
import { loadCheckpoint, removeCheckpoint, restoreCheckpoint, saveCheckpoint } from './checkpoint.js';

/** Seed of the shuffle that picks the test images `record.activationTrace` is measured on. */
const TRACE_SEED = 20150211;

/**
 * `count` (at most `size`) indices of a `size`-example set, shuffled by a fixed seed: the same
 * for every trial, and drawn from all of a set stored class by class.
 */
export function fixedSubset(size: number, count: number): number[] {
  return Array.from(new Rng(TRACE_SEED).permutation(size).slice(0, Math.min(count, size)));
}

/** What a trial needs from its surroundings. */
export interface TrialEnvironment {
  data: DataCache;
  backend: BackendInfo;
  listener: RunListener;
  /** Set to true to stop the trial after the current batch (Ctrl-C). */
  stop: { requested: boolean };
  /** Versions and such recorded with the run. */
  environment: Record<string, unknown>;
  /**
   * The results folder whose `checkpoints/` keep each running trial's state at its last epoch
   * end, so that a trial stopped before it finished goes on from there when run again. Without
   * it, trials are not checkpointed.
   */
  checkpoints?: string;
}

/** Emits a progress event about every this many steps. */
const PROGRESS_EVERY = 10;

/**
 * Trains one trial and returns its result. Never throws for a training problem: a run that
 * diverges is stopped and recorded as `diverged`, an error is recorded as `failed`, Ctrl-C
 * as `interrupted` — the sweep goes on.
 */
export async function runTrial(trial: Trial, env: TrialEnvironment): Promise<TrialResult> {
  const started = performance.now();
  const { fields, seed } = trial;
  const tensorsBefore = tf.memory().numTensors;
  let record: TrainingRecord;
  let featureMaps: TrialResult['featureMaps'];
  let setup: Awaited<ReturnType<typeof prepare>>;
  try {
    setup = await prepare(trial, env);
  } catch (e) {
    // Its data missing, a model that cannot be built: this trial fails, the sweep goes on.
    record = failedRecord(trial, e, env.environment);
    env.listener({
      type: 'trial-end',
      id: trial.id,
      label: trial.variantLabel,
      seed,
      status: 'failed',
      seconds: (performance.now() - started) / 1000,
      error: record.error as string,
    });
    return { trial, record };
  }
  const { train, test, run, built, optimizer, setStep, probe } = setup;
  let learningRate = setStep(0);
  const recorder = new TrainingRecorder({
    runId: trial.id,
    config: trialConfig(trial),
    environment: env.environment,
    model: built,
    ...(setup.validation ? { validation: setup.validation } : {}),
    test,
    evalBatchSize: 1000,
    probe,
    ...(setup.traced && fields.record.activationTrace
      ? {
          activationTrace: {
            xs: setup.traced.xs,
            block: fields.record.activationTrace.block,
            units: fields.record.activationTrace.units,
            percentiles: fields.record.activationTrace.percentiles,
            every: fields.record.activationTrace.every,
            training: fields.record.activationTrace.mode === 'training',
            name: 'record.activationTrace',
          },
        }
      : {}),
    batches: fields.record.batches,
    gradientNorms: fields.record.gradientNorms,
    activationStats: fields.record.activationStats,
    trainVsInference: fields.record.trainingModeAccuracy,
    divergence: { patience: fields.divergence.patience },
    learningRate: () => learningRate,
    batchNorm: {
      statistics: fields.evaluation.batchNormStatistics,
      // Shuffled training batches (their own seed: the training order is not touched), so the
      // statistics cover the whole split rather than its first examples.
      // With the training augmentation unless the file says otherwise: the statistics of the
      // inputs the weights were trained on.
      batches: () =>
        train.batches({
          batchSize: fields.training.batchSize,
          shuffle: true,
          seed: seed * 100003 + 99991,
          ...(fields.training.augmentation && fields.evaluation.preciseAugmentation === 'training'
            ? { augment: fields.training.augmentation }
            : {}),
        }),
      maxBatches: fields.evaluation.preciseBatches ?? DEFAULT_PRECISE_BATCHES,
      batchStatisticsBatchSize: fields.training.batchSize,
    },
  });
  try {
    const resumed = await resumeFromCheckpoint(trial, env, setup);
    await recorder.begin(built, resumed ? { resumeFrom: resumed.record } : {});
    let step = resumed?.step ?? 0;
    for (let epoch = resumed?.epoch ?? 0; epoch < run.epochs && !recorder.shouldStop; epoch++) {
      recorder.beginEpoch(epoch);
      for await (const batch of train.batches({
        batchSize: fields.training.batchSize,
        shuffle: fields.training.shuffle,
        seed: seed * 100003 + epoch,
        // Evaluation is never augmented; the precise batch-norm batches are (see above).
        ...(fields.training.augmentation ? { augment: fields.training.augmentation } : {}),
      })) {
        learningRate = setStep(step);
        let out: number | number[];
        // tfjs's sparse categorical cross-entropy refuses int32 labels: cast them.
        const labels = tf.cast(batch.ys, 'float32');
        try {
          out = await built.trainOnBatch(batch.xs, labels);
        } finally {
          tf.dispose([batch.xs, batch.ys, labels]);
        }
        const [loss, accuracy] = Array.isArray(out) ? out : [out, undefined];
        await recorder.recordBatch({ loss: loss as number, ...(accuracy !== undefined ? { accuracy } : {}), size: batch.size });
        step++;
        if (step % PROGRESS_EVERY === 0)
          env.listener({ type: 'trial-progress', id: trial.id, step, totalSteps: run.steps, loss: loss as number });
        // tfjs's awaits resolve as microtasks: without a turn of the event loop, Ctrl-C and
        // the parent's stop message would only be seen after the whole trial.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (env.stop.requested) recorder.interrupt();
        // With training.steps, the last epoch is cut short (and evaluated as it ends).
        if (recorder.shouldStop || step >= run.steps) break;
      }
      const epochRecord = await recorder.endEpoch();
      if (epochRecord) env.listener({ type: 'epoch', id: trial.id, record: epochRecord });
      // Not after the last epoch (the trial is about to end) nor once it stops (it diverged, or
      // the epoch was cut short by Ctrl-C: the previous checkpoint stays the one to go on from).
      if (env.checkpoints && epochRecord && !recorder.shouldStop && epoch + 1 < run.epochs)
        await checkpoint(trial, env, built, optimizer, recorder.record);
    }
    record = await recorder.end(env.stop.requested ? 'interrupted' : 'completed');
    // A final record: its trial will not run again.
    if (env.checkpoints && (record.status === 'completed' || record.status === 'diverged'))
      await removeCheckpoint(env.checkpoints, trial.id).catch(() => undefined);
    if (fields.record.featureMaps && record.status === 'completed') featureMaps = await firstFeatureMaps(built, test);
  } catch (e) {
    record = await recorder.fail(e);
  } finally {
    tf.dispose([probe.xs, probe.ys]);
    if (setup.traced) tf.dispose([setup.traced.xs, setup.traced.ys]);
    optimizer.dispose();
    built.dispose();
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  const seconds = (performance.now() - started) / 1000;
  const last = record.epochs[record.epochs.length - 1];
  env.listener({
    type: 'trial-end',
    id: trial.id,
    label: trial.variantLabel,
    seed,
    status: record.status,
    ...(last?.testAccuracy !== undefined ? { testAccuracy: last.testAccuracy } : {}),
    // Only batch norm behaves differently in training and inference mode.
    ...(typeof last?.extra?.[extraKeys.bnMovingTestAccuracy] === 'number'
      ? {
          batchNorm: {
            statistics: fields.evaluation.batchNormStatistics,
            movingTestAccuracy: last.extra[extraKeys.bnMovingTestAccuracy] as number,
            ...(typeof last.extra[extraKeys.bnBatchTestAccuracy] === 'number'
              ? { batchStatisticsTestAccuracy: last.extra[extraKeys.bnBatchTestAccuracy] as number }
              : {}),
          },
        }
      : {}),
    seconds,
    ...(record.error ? { error: record.error } : {}),
  });
  if (leaked > 0) record.environment = { ...record.environment, leakedTensors: leaked };
  return featureMaps ? { trial, record, featureMaps } : { trial, record };
}

/**
 * Puts the trial's checkpoint, when it has one, into its freshly built model and optimizer, and
 * says where the run goes on: the epoch after the checkpoint's and the steps done by then. A
 * checkpoint that cannot be used (damaged, or of a model that no longer fits) is reported and
 * the trial starts over; it is replaced at the next epoch end.
 */
async function resumeFromCheckpoint(
  trial: Trial,
  env: TrialEnvironment,
  setup: Pick<Awaited<ReturnType<typeof prepare>>, 'built' | 'optimizer' | 'run'>,
): Promise<{ record: TrainingRecord; epoch: number; step: number } | undefined> {
  if (!env.checkpoints) return undefined;
  try {
    const saved = await loadCheckpoint(env.checkpoints, trial.id);
    if (!saved) return undefined;
    const last = saved.record.epochs[saved.record.epochs.length - 1];
    if (!last || last.epoch + 1 >= setup.run.epochs) {
      saved.model.forEach((t) => t.dispose());
      saved.optimizer.forEach((t) => t.tensor.dispose());
      throw new BnlabError(
        'DATA_FORMAT',
        `the checkpoint of trial ${trial.id} is not at the end of one of its first ${setup.run.epochs - 1} epochs`,
        { where: 'checkpoint' },
      );
    }
    await restoreCheckpoint(saved, setup.built, setup.optimizer, `the checkpoint of trial ${trial.id}`);
    const epoch = last.epoch + 1;
    // Every epoch before the last one is whole.
    const step = epoch * setup.run.batchesPerEpoch;
    env.listener({ type: 'trial-resume', id: trial.id, epoch, step });
    return { record: saved.record, epoch, step };
  } catch (e) {
    if (!isBnlabError(e)) throw e;
    env.listener({ type: 'checkpoint-problem', id: trial.id, message: `${e.message}; trial ${trial.id} starts over` });
    return undefined;
  }
}

/** Saves the trial's state at an epoch end; a checkpoint that cannot be written is reported, and training goes on. */
async function checkpoint(
  trial: Trial,
  env: TrialEnvironment,
  model: Parameters<typeof saveCheckpoint>[2],
  optimizer: tf.Optimizer,
  record: TrainingRecord,
): Promise<void> {
  try {
    await saveCheckpoint(env.checkpoints as string, trial.id, model, optimizer, record);
  } catch (e) {
    if (!isBnlabError(e)) throw e;
    env.listener({ type: 'checkpoint-problem', id: trial.id, message: `${e.message}; trial ${trial.id} goes on without a checkpoint` });
  }
}

/**
 * A trial's data, model (compiled), optimizer and probe batch; announces the trial. What it
 * made is disposed of again if a later step throws.
 */
async function prepare(trial: Trial, env: TrialEnvironment) {
  const { fields, seed } = trial;
  const { train, validation, test } = await env.data.forTrial(fields.dataset);
  const run = runLength(fields.training, Math.ceil(train.size / fields.training.batchSize));
  // Checked at load where the file tells the split's size; here for data read from folders.
  const { preciseBatches } = fields.evaluation;
  const tooMany =
    usesPreciseBatchNorm(fields) && preciseBatches !== undefined
      ? tooManyBatches(preciseBatches, fields.training.batchSize, train.size)
      : undefined;
  if (tooMany) {
    throw new BnlabError('INVALID_CONFIG', `evaluation.preciseBatches: ${tooMany.message}; use at most ${tooMany.batches}`, {
      where: 'evaluation.preciseBatches',
    });
  }
  // Checked at load for built-in datasets; here, knowing the split's size, for any.
  const [misfit] = scheduleProblems(fields.training, train.size);
  if (misfit) {
    const where = `training.${misfit.path.join('.')}`;
    throw new BnlabError('INVALID_CONFIG', `${where}: ${misfit.message}`, { where });
  }
  // Checked at load for built-in datasets; here, knowing the images' size, for any.
  const badAugmentation = augmentationProblem(fields.training.augmentation, train.imageShape);
  if (badAugmentation) throw new BnlabError('INVALID_CONFIG', badAugmentation.message, { where: badAugmentation.where });
  env.listener({ type: 'trial-start', id: trial.id, label: trial.variantLabel, seed, index: trial.index, totalSteps: run.steps });
  const built = fromSpec({
    architecture: fields.model.architecture,
    inputShape: [...train.imageShape],
    numClasses: train.numClasses,
    norm: fields.model.norm as never,
    ...(fields.model.placement ? { placement: fields.model.placement } : {}),
    options: { ...fields.model.options, seed },
  });
  let made: ReturnType<typeof makeOptimizer> | undefined;
  try {
    made = makeOptimizer(fields.training, run, built);
    built.compile({ optimizer: made.optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    // The same test images for every trial (not the trial seed): shuffled subsets, since test
    // sets read from class folders are sorted by class (the first 64 CIFAR-10 test images
    // are all airplanes, and batch statistics over one class say nothing).
    const probe = test.subset(fixedSubset(test.size, 64)).toTensors();
    const trace = fields.record.activationTrace;
    const traced = trace ? test.subset(fixedSubset(test.size, trace.examples)).toTensors() : undefined;
    return { train, validation, test, run, built, optimizer: made.optimizer, setStep: made.setStep, probe, ...(traced ? { traced } : {}) };
  } catch (e) {
    made?.optimizer.dispose();
    built.dispose();
    throw e;
  }
}

/** The first conv block's feature maps for the first test image, as plain JSON. */
async function firstFeatureMaps(
  model: Parameters<typeof extractFeatureMaps>[0],
  test: TrialData['test'],
): Promise<TrialResult['featureMaps']> {
  const { xs, ys } = test.subset([0]).toTensors();
  try {
    const maps = await extractFeatureMaps(model, xs, { blocks: 1 });
    return maps.map((m) => ({ ...m, data: Array.from(m.data, (v) => Number(v.toPrecision(4))) }));
  } catch {
    return undefined; // a model without conv blocks has no feature maps
  } finally {
    tf.dispose([xs, ys]);
  }
}
