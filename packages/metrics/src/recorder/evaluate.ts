import {
  argMax,
  cast,
  clone,
  dispose,
  equal,
  gather,
  greater,
  mean,
  reshape,
  slice,
  sum,
  tensor1d,
  tidy,
  type Tensor,
} from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { BnlabError, Rng, type Dataset } from '@bnlab/core';

/** Labelled examples held as two tensors: images or features `xs`, labels `ys` (class ids or one-hot). */
export interface LabelledTensors {
  /** Inputs, batch first. */
  xs: Tensor;
  /** Labels: class ids (`[n]` or `[n, 1]`) or one-hot (`[n, K]`). */
  ys: Tensor;
}

/** Data to evaluate on: tensors (sliced into batches) or a bnlab {@link Dataset}. */
export type LabelledData = LabelledTensors | Dataset;

/**
 * A loss: labels and predictions in, per-example losses (or their mean) out — the shape of
 * tfjs's `tf.losses`/`tf.metrics` functions and of a compiled model's `lossFunctions`.
 */
export type LossFunction = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** Mean loss and accuracy over a set of examples. */
export interface EvaluationResult {
  /** Mean loss per example. */
  loss: number;
  /** Fraction of examples classified right. */
  accuracy: number;
  /** Number of examples. */
  count: number;
}

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /** The loss; defaults to the model's compiled loss. */
  loss?: LossFunction;
  /** @default 256 */
  batchSize?: number;
  /**
   * Run the model in training mode (batch statistics for batch norm, dropout on). The
   * model's non-trainable weights (moving statistics) are restored afterwards, so evaluating
   * leaves no trace. @default false (inference mode)
   */
  training?: boolean;
  /**
   * Evaluate in an order shuffled with this seed (the same seed, the same batches) rather than
   * in the data's order. Only what a batch holds changes, not the figures of an inference-mode
   * evaluation; in training mode, where each batch normalizes with its own statistics, a data
   * set stored class by class (CIFAR-10 read from class folders) would otherwise give batches
   * of one class. @default in order
   */
  shuffleSeed?: number;
}

function isDataset(d: LabelledData): d is Dataset {
  return typeof (d as Dataset).batches === 'function';
}

/** The loss a compiled tfjs-layers model trains with, or a clear error. */
export function compiledLoss(model: LayersModel, where = 'loss'): LossFunction {
  type WithLosses = { lossFunctions?: LossFunction[]; model?: WithLosses };
  const m = model as unknown as WithLosses;
  // A Sequential keeps its compiled losses on the functional model it wraps.
  const fn = m.lossFunctions?.[0] ?? m.model?.lossFunctions?.[0];
  if (typeof fn !== 'function') {
    throw new BnlabError(
      'INVALID_CONFIG',
      `${where}: the model is not compiled, so pass a loss function (e.g. tf.metrics.sparseCategoricalCrossentropy)`,
      { where },
    );
  }
  return fn;
}

/**
 * Number of correct predictions in a batch: the arg-max of `yPred` against class ids
 * (`yTrue` of shape [n] or [n, 1]) or one-hot labels ([n, K]); a single sigmoid output
 * ([n, 1]) is thresholded at 0.5.
 */
export function countCorrect(yTrue: Tensor, yPred: Tensor): Tensor {
  return tidy(() => {
    const n = yPred.shape[0] as number;
    const k = yPred.shape[yPred.rank - 1] as number;
    const classIds = k === 1 || yTrue.rank === 1 || (yTrue.rank === 2 && yTrue.shape[1] === 1);
    const ids = classIds ? cast(reshape(yTrue, [n]), 'int32') : cast(argMax(yTrue, -1), 'int32');
    const predicted = k === 1 ? cast(reshape(greater(yPred, 0.5), [n]), 'int32') : cast(argMax(yPred, -1), 'int32');
    return sum(cast(equal(ids, predicted), 'float32'));
  });
}

/**
 * Runs `fn` and then puts the model's non-trainable weights (batch norm's moving mean and
 * variance) back as they were: a training-mode forward pass in tfjs updates them.
 */
export async function preservingState<T>(model: LayersModel, fn: () => Promise<T> | T): Promise<T> {
  const weights = model.nonTrainableWeights;
  const saved = weights.map((w) => clone(w.read()));
  try {
    return await fn();
  } finally {
    weights.forEach((w, i) => w.write(saved[i] as Tensor));
    dispose(saved);
  }
}

async function* tensorBatches(data: LabelledTensors, batchSize: number, shuffleSeed: number | undefined): AsyncGenerator<LabelledTensors> {
  const n = data.xs.shape[0] as number;
  if (data.ys.shape[0] !== n) {
    throw new BnlabError('INVALID_SHAPE', `xs has ${n} examples but ys has ${data.ys.shape[0]}; they must match`, {
      where: 'ys',
    });
  }
  const order = shuffleSeed === undefined ? undefined : new Rng(shuffleSeed).permutation(n);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    if (order) {
      const idx = tensor1d(Int32Array.from(order.subarray(start, start + size)), 'int32');
      yield { xs: gather(data.xs, idx), ys: gather(data.ys, idx) };
      idx.dispose();
    } else {
      // Slices are new tensors: the caller's tensors stay intact when we dispose ours.
      yield { xs: slice(data.xs, start, size), ys: slice(data.ys, start, size) };
    }
  }
}

async function* datasetBatches(data: Dataset, batchSize: number, shuffleSeed: number | undefined): AsyncGenerator<LabelledTensors> {
  const options = shuffleSeed === undefined ? { batchSize } : { batchSize, shuffle: true, seed: shuffleSeed };
  for await (const b of data.batches(options)) yield { xs: b.xs, ys: b.ys };
}

/**
 * Mean loss and accuracy of `model` on `data`, by default in inference mode (as Keras's
 * `evaluate`). The loss is the data loss without regularization penalties, averaged over
 * examples.
 */
export async function evaluateModel(model: LayersModel, data: LabelledData, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const lossFn = options.loss ?? compiledLoss(model);
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new BnlabError('INVALID_ARGUMENT', `batchSize must be an integer ≥ 1, got ${batchSize}`, {
      where: 'batchSize',
    });
  }
  const training = options.training ?? false;
  const run = async (): Promise<EvaluationResult> => {
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    const batches = isDataset(data)
      ? datasetBatches(data, batchSize, options.shuffleSeed)
      : tensorBatches(data, batchSize, options.shuffleSeed);
    for await (const b of batches) {
      const size = b.xs.shape[0] as number;
      const [l, c] = tidy(() => {
        const pred = model.apply(b.xs, { training }) as Tensor;
        // tfjs's sparse cross-entropy wants float labels; bnlab datasets give int32 ones.
        const ys = b.ys.dtype === 'float32' ? b.ys : cast(b.ys, 'float32');
        return [mean(lossFn(ys, pred)), countCorrect(b.ys, pred)];
      });
      const [lv, cv] = await Promise.all([(l as Tensor).data(), (c as Tensor).data()]);
      dispose([l as Tensor, c as Tensor, b.xs, b.ys]);
      lossSum += (lv[0] as number) * size;
      correct += cv[0] as number;
      count += size;
    }
    if (count === 0) {
      throw new BnlabError('DATA_MISSING', 'the evaluation data holds no examples', { where: 'data' });
    }
    return { loss: lossSum / count, accuracy: correct / count, count };
  };
  return training ? preservingState(model, run) : run();
}
