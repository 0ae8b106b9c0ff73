import type { Tensor } from '@tensorflow/tfjs-core';

/** One mini-batch: images `xs` (NHWC float32) and integer class labels `ys` (int32, shape [n]). */
export interface Batch {
  xs: Tensor;
  ys: Tensor;
  /** Number of examples in this batch (the last one may be smaller). */
  size: number;
}

/** How to cut a dataset into batches. */
export interface BatchOptions {
  batchSize: number;
  /** Shuffle once per call with `seed`. @default false */
  shuffle?: boolean;
  /** Seed of the shuffle; the same seed gives the same order. @default 0 */
  seed?: number;
  /** Drop a last batch smaller than `batchSize`. @default false */
  dropRemainder?: boolean;
}

/**
 * A labelled image dataset held in memory as bytes. Float tensors are made per batch and
 * belong to the consumer, who disposes them.
 */
export interface Dataset {
  readonly name: string;
  /** Number of examples. */
  readonly size: number;
  /** `[height, width, channels]`. */
  readonly imageShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** Batches of `{xs, ys}` in order, or shuffled with a seed. */
  batches(options: BatchOptions): AsyncIterable<Batch>;
  /** Splits off the last `fraction` (after a seeded shuffle) as a second dataset: `[rest, held out]`. */
  split(fraction: number, seed?: number): [Dataset, Dataset];
}

/** The train and test parts of a dataset. */
export interface DatasetSplits {
  train: Dataset;
  test: Dataset;
}
