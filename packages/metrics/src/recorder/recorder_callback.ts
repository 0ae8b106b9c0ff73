import { Callback } from '@tensorflow/tfjs-layers';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { EpochFigures, TrainingRecorder } from './training_recorder.js';

/** The logs tfjs passes to callbacks: numbers or scalar tensors by name. */
export type CallbackLogs = Record<string, number | Tensor> | undefined;

/** Log keys under which tfjs reports accuracy, by the metric name given to `compile`. */
const ACCURACY_KEYS = ['acc', 'accuracy', 'sparseCategoricalAccuracy', 'categoricalAccuracy', 'binaryAccuracy'];

async function resolve(v: number | Tensor | undefined): Promise<number | undefined> {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  return (await v.data())[0] as number;
}

async function pick(logs: CallbackLogs, keys: readonly string[]): Promise<number | undefined> {
  if (!logs) return undefined;
  for (const k of keys) if (k in logs) return resolve(logs[k]);
  return undefined;
}

/**
 * The tfjs-layers callback of a {@link TrainingRecorder}, made by `recorder.callback()`:
 * pass it to `model.fit(…, { callbacks })` or `model.fitDataset`. It reads each batch's
 * `loss` and accuracy, the epoch's `val_loss`/`val_acc`, and sets `model.stopTraining`
 * when the run diverges.
 */
export class RecorderCallback extends Callback {
  /** @param recorder the recorder this callback feeds */
  constructor(readonly recorder: TrainingRecorder) {
    super();
  }

  /** Starts the run in the recorder, with the model being trained. */
  override async onTrainBegin(): Promise<void> {
    await this.recorder.begin(this.model as LayersModel);
  }

  /** Starts the epoch's clock. */
  override async onEpochBegin(epoch: number): Promise<void> {
    this.recorder.beginEpoch(epoch);
  }

  /** Records the batch's loss, accuracy and size; stops training when the run diverged. */
  override async onBatchEnd(_batch: number, logs?: CallbackLogs): Promise<void> {
    const loss = await pick(logs, ['loss']);
    const accuracy = await pick(logs, ACCURACY_KEYS);
    const size = await pick(logs, ['size']);
    const m: { loss: number; size: number; accuracy?: number } = { loss: loss ?? NaN, size: size ?? 1 };
    if (accuracy !== undefined) m.accuracy = accuracy;
    await this.recorder.recordBatch(m);
    if (this.recorder.shouldStop) this.model.stopTraining = true;
  }

  /** Ends the epoch (with `fit`'s `val_loss`/`val_acc` when present) and runs evaluation and probes. */
  override async onEpochEnd(_epoch: number, logs?: CallbackLogs): Promise<void> {
    const figures: EpochFigures = {};
    const valLoss = await pick(logs, ['val_loss']);
    const valAccuracy = await pick(
      logs,
      ACCURACY_KEYS.map((k) => `val_${k}`),
    );
    if (valLoss !== undefined) figures.valLoss = valLoss;
    if (valAccuracy !== undefined) figures.valAccuracy = valAccuracy;
    await this.recorder.endEpoch(figures);
    if (this.recorder.shouldStop) this.model.stopTraining = true;
  }

  /** Ends the run. */
  override async onTrainEnd(): Promise<void> {
    await this.recorder.end();
  }
}
