import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { BnlabError } from '@bnlab/core';

/** A named tensor, as an optimizer's `getWeights()` gives them. */
type NamedTensor = Awaited<ReturnType<tf.Optimizer['getWeights']>>[number];
import type { TrainingRecord } from '@bnlab/core';
import { encodeNonFinite, validateTrainingRecord, writeFileAtomic } from '@bnlab/metrics';

/**
 * A trial's state at the end of an epoch, saved so that a run stopped later (Ctrl-C, a job's
 * time limit, a crash, the end of a session) goes on from there instead of starting over:
 * the model's weights (trainable and not: batch-norm moving statistics too), the optimizer's
 * slots (momentum, Adam's moments, its step count) and the training record so far.
 *
 * One file per trial, `<results>/checkpoints/<trial id>.ckpt`, replaced atomically after each
 * epoch and removed when the trial has its final record. Layout: the 4-byte little-endian
 * length of a UTF-8 JSON header, the header ({@link CheckpointHeader}), then the tensors'
 * float32/int32 values back to back (the header's `sha256` is of those bytes).
 */
export interface TrialCheckpoint {
  record: TrainingRecord;
  /** The model's weights, in `model.weights` order. */
  model: tf.Tensor[];
  /** The optimizer's weights, as `optimizer.getWeights()` gives them. */
  optimizer: NamedTensor[];
}

/** The JSON header of a checkpoint file. */
interface CheckpointHeader {
  format: 'bnlab-trial-checkpoint';
  version: 1;
  trialId: string;
  model: TensorEntry[];
  optimizer: Array<TensorEntry & { name: string }>;
  record: TrainingRecord;
  sha256: string;
}

interface TensorEntry {
  shape: number[];
  dtype: 'float32' | 'int32';
}

const FORMAT = 'bnlab-trial-checkpoint';

/** The checkpoint file of trial `trialId` in the results folder `dir`. */
export function checkpointPath(dir: string, trialId: string): string {
  return join(dir, 'checkpoints', `${trialId}.ckpt`);
}

/** Saves the trial's state at an epoch end, replacing its previous checkpoint atomically. */
export async function saveCheckpoint(
  dir: string,
  trialId: string,
  model: LayersModel,
  optimizer: tf.Optimizer,
  record: TrainingRecord,
): Promise<void> {
  const modelTensors = model.getWeights();
  const optimizerTensors = await optimizer.getWeights();
  const all = [...modelTensors, ...optimizerTensors.map((t) => t.tensor)];
  const entry = (t: tf.Tensor): TensorEntry => {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') {
      throw new BnlabError(
        'INVALID_ARGUMENT',
        `checkpoint of trial ${trialId}: a ${t.dtype} weight cannot be saved (float32 and int32 only)`,
        { where: 'checkpoint' },
      );
    }
    return { shape: [...t.shape], dtype: t.dtype };
  };
  const values = await Promise.all(all.map((t) => t.data()));
  const total = values.reduce((n, v) => n + v.byteLength, 0);
  const payload = new Uint8Array(total);
  let offset = 0;
  for (const v of values) {
    payload.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), offset);
    offset += v.byteLength;
  }
  const header: CheckpointHeader = {
    format: FORMAT,
    version: 1,
    trialId,
    model: modelTensors.map(entry),
    optimizer: optimizerTensors.map((t) => ({ name: t.name, ...entry(t.tensor) })),
    record,
    sha256: createHash('sha256').update(payload).digest('hex'),
  };
  // Non-finite figures (a NaN loss) as strings, as in trial files.
  const headerBytes = new TextEncoder().encode(JSON.stringify(header, encodeNonFinite));
  const file = new Uint8Array(4 + headerBytes.length + payload.length);
  new DataView(file.buffer).setUint32(0, headerBytes.length, true);
  file.set(headerBytes, 4);
  file.set(payload, 4 + headerBytes.length);
  // The model's weights are its own variables; of the optimizer's, its step count is a scalar
  // made for the call (the slots are its variables).
  tf.dispose(optimizerTensors.map((t) => t.tensor).filter((t) => !(t instanceof tf.Variable)));
  await writeFileAtomic(checkpointPath(dir, trialId), file);
}

/**
 * The checkpoint of trial `trialId`, or `undefined` when there is none. A file that is not a
 * whole checkpoint of this trial (cut short, bytes changed, another trial's) is a
 * `DATA_FORMAT` error naming it: the caller decides to start over (and says so).
 */
export async function loadCheckpoint(dir: string, trialId: string): Promise<TrialCheckpoint | undefined> {
  const path = checkpointPath(dir, trialId);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BnlabError('IO_ERROR', `cannot read the checkpoint ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      where: path,
      cause: e,
    });
  }
  const bad = (why: string): BnlabError => new BnlabError('DATA_FORMAT', `${path} is not a usable checkpoint: ${why}`, { where: path });
  if (bytes.length < 4) throw bad('the file is too short');
  const headerLength = bytes.readUInt32LE(0);
  if (4 + headerLength > bytes.length) throw bad('the file is cut short');
  let header: CheckpointHeader;
  try {
    header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as CheckpointHeader;
  } catch {
    throw bad('its header is not JSON');
  }
  if (header?.format !== FORMAT || header.version !== 1) throw bad('not a bnlab trial checkpoint (version 1)');
  if (header.trialId !== trialId) throw bad(`it is of trial ${String(header.trialId)}, not ${trialId}`);
  const payload = bytes.subarray(4 + headerLength);
  if (createHash('sha256').update(payload).digest('hex') !== header.sha256)
    throw bad('its weights do not match their SHA-256 (the file was cut short or changed)');
  let record: TrainingRecord;
  try {
    record = validateTrainingRecord(header.record, `${path}: record`);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (!Array.isArray(header.model) || !Array.isArray(header.optimizer)) throw bad('its header lists no model and optimizer weights');
  const entries = [...header.model, ...header.optimizer];
  const isEntry = (e: unknown): e is TensorEntry => {
    const { shape, dtype } = (e ?? {}) as Partial<TensorEntry>;
    return (dtype === 'float32' || dtype === 'int32') && Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0);
  };
  if (!entries.every(isEntry))
    throw bad('its header describes a weight without a shape of non-negative integers and a float32 or int32 dtype');
  const needed = entries.reduce((n, e) => n + 4 * e.shape.reduce((a, b) => a * b, 1), 0);
  if (needed !== payload.length) throw bad(`its header describes ${needed} bytes of weights, the file holds ${payload.length}`);
  // Copied out so the views are aligned whatever the header's length.
  const data = new Uint8Array(payload).buffer;
  let offset = 0;
  const tensors = entries.map((e) => {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const values = e.dtype === 'int32' ? new Int32Array(data, offset, n) : new Float32Array(data, offset, n);
    offset += 4 * n;
    return tf.tensor(values, e.shape, e.dtype);
  });
  const model = tensors.slice(0, header.model.length);
  const optimizer = header.optimizer.map((e, i) => ({ name: e.name, tensor: tensors[header.model.length + i] as tf.Tensor }));
  return { record, model, optimizer };
}

/** Removes trial `trialId`'s checkpoint (when its record is final). */
export async function removeCheckpoint(dir: string, trialId: string): Promise<void> {
  await rm(checkpointPath(dir, trialId), { force: true });
}

/**
 * Puts a checkpoint's weights into a model built from the same spec and into its optimizer
 * (made the same way), and disposes of the checkpoint's tensors. A model whose weights do not
 * have the checkpoint's shapes is an `INVALID_CONFIG` error (the trial is not the one saved).
 */
export async function restoreCheckpoint(
  checkpoint: TrialCheckpoint,
  model: LayersModel,
  optimizer: tf.Optimizer,
  where: string,
): Promise<void> {
  try {
    const shapes = model.weights.map((w) => w.shape.join('×'));
    const saved = checkpoint.model.map((t) => t.shape.join('×'));
    if (shapes.join(',') !== saved.join(',')) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${where}: the checkpoint's weights (${saved.length}: ${saved.join(', ')}) do not fit the model (${shapes.length}: ${shapes.join(', ')})`,
        { where },
      );
    }
    model.setWeights(checkpoint.model);
    // setWeights makes the optimizer's own variables from these tensors.
    await optimizer.setWeights(checkpoint.optimizer);
  } finally {
    tf.dispose(checkpoint.model);
    tf.dispose(checkpoint.optimizer.map((t) => t.tensor));
  }
}
