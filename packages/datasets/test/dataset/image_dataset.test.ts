import { initBackend, isBnlabError } from '@bnlab/core';
import { memory } from '@tensorflow/tfjs-core';
import type { Batch } from '@bnlab/core';
import { ImageDataset } from '../../src/dataset/image_dataset.js';
import { applyScaling } from '../../src/dataset/splits.js';
import { ImageAugmenter } from '../../src/dataset/augmenter.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** n images of 2×2×channels; image i has every byte of channel c equal to step × i + 50 c. */
function tiny(n: number, channels: 1 | 3 = 1, step = 10): ImageDataset {
  const images = new Uint8Array(n * 4 * channels);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < 4; p++) for (let c = 0; c < channels; c++) images[(i * 4 + p) * channels + c] = step * i + 50 * c;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 3);
  return new ImageDataset({ name: 'tiny', images, labels, imageShape: [2, 2, channels], classNames: ['a', 'b', 'c'] });
}

async function collect(d: ImageDataset, options: Parameters<ImageDataset['batches']>[0], step = 10) {
  const out: { ids: number[]; labels: number[]; shape: number[]; size: number }[] = [];
  for await (const b of d.batches(options)) {
    const xs = b.xs.dataSync() as Float32Array;
    const per = xs.length / b.size;
    // image i has first byte step × i, scaled by 1/255 by default
    out.push({
      ids: Array.from({ length: b.size }, (_, k) => Math.round((xs[k * per] as number) * 255) / step),
      labels: Array.from(b.ys.dataSync()),
      shape: b.xs.shape,
      size: b.size,
    });
    expect(b.ys.dtype).toBe('int32');
    expect(b.xs.dtype).toBe('float32');
    b.xs.dispose();
    b.ys.dispose();
  }
  return out;
}

describe('ImageDataset', () => {
  it('batches in order with NHWC float32 xs in [0, 1] and int32 labels; the last batch is smaller', async () => {
    const batches = await collect(tiny(7), { batchSize: 3 });
    expect(batches.map((b) => b.shape)).toEqual([
      [3, 2, 2, 1],
      [3, 2, 2, 1],
      [1, 2, 2, 1],
    ]);
    expect(batches.flatMap((b) => b.ids)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(batches.flatMap((b) => b.labels)).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect((await collect(tiny(7), { batchSize: 3, dropRemainder: true })).map((b) => b.size)).toEqual([3, 3]);
  });

  it('shuffles with a seed: a permutation, the same for the same seed, different for another', async () => {
    const d = tiny(20);
    const order = async (seed: number) => (await collect(d, { batchSize: 6, shuffle: true, seed })).flatMap((b) => b.ids);
    const a = await order(1);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(await order(1)).toEqual(a);
    expect(await order(2)).not.toEqual(a);
    // labels travel with their images
    for (const b of await collect(d, { batchSize: 6, shuffle: true, seed: 3 })) {
      expect(b.labels).toEqual(b.ids.map((i) => i % 3));
    }
  });

  it('scales bytes: unit, raw, standardize and explicit per-channel mean/std', async () => {
    const d = tiny(2, 3); // image 0: channels 0, 50, 100; image 1: 10, 60, 110
    const first = async (x: ImageDataset) => {
      const batch = (await x.batches({ batchSize: 2 })[Symbol.asyncIterator]().next()).value as Batch;
      const values = Array.from(batch.xs.dataSync());
      batch.xs.dispose();
      batch.ys.dispose();
      return values;
    };
    const unit = await first(d);
    expect(unit.slice(0, 3).map((v) => v * 255)).toEqual([0, 50, 100].map((v) => expect.closeTo(v, 4)));
    expect((await first(d.withScaling('raw'))).slice(12, 15)).toEqual([10, 60, 110]);
    const explicit = await first(d.withScaling({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1] }));
    expect(explicit[13]).toBeCloseTo((60 / 255 - 0.5) / 0.5, 6);
    // standardize: channel c holds 50c and 50c + 10 in equal numbers: mean 50c + 5, std 5 (in bytes)
    const std = d.withScaling('standardize');
    expect(std.scaling.stats?.mean).toEqual([5 / 255, 55 / 255, 105 / 255].map((v) => expect.closeTo(v, 12)));
    expect(std.scaling.stats?.std).toEqual([5, 5, 5].map((v) => expect.closeTo(v / 255, 12)));
    // so image 0 is −1 everywhere and image 1 is +1
    expect(await first(std)).toEqual([...Array(12).fill(-1), ...Array(12).fill(1)].map((v) => expect.closeTo(v, 5)));
  });

  it('standardizes the test split with the training statistics', () => {
    const train = tiny(4);
    const test = new ImageDataset({
      name: 'test',
      images: new Uint8Array(8).fill(255),
      labels: new Uint8Array(2),
      imageShape: [2, 2, 1],
      classNames: ['a', 'b', 'c'],
    });
    const scaled = applyScaling({ train, test }, 'standardize');
    // train bytes 0, 10, 20, 30: mean 15, population std sqrt(125)
    expect(scaled.test.scaling.stats?.mean[0]).toBeCloseTo(15 / 255, 12);
    expect(scaled.test.scaling.stats?.std[0]).toBeCloseTo(Math.sqrt(125) / 255, 12);
    expect(scaled.train.scaling.table).toBe(scaled.test.scaling.table);
  });

  it('splits like validation_split: sizes, no overlap, nothing lost, seeded', async () => {
    const d = tiny(60, 1, 1);
    const [rest, held] = d.split(0.1, 5);
    expect([rest.size, held.size]).toEqual([54, 6]);
    const ids = async (x: ImageDataset) => (await collect(x, { batchSize: 100 }, 1)).flatMap((b) => b.ids);
    const [a, b] = [await ids(rest), await ids(held)];
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    const [, heldAgain] = d.split(0.1, 5);
    expect(await ids(heldAgain)).toEqual(b);
    const [, heldOther] = d.split(0.1, 6);
    expect(await ids(heldOther)).not.toEqual(b);
    // a split of a split stays within its parent
    const [, inner] = rest.split(0.5, 1);
    expect((await ids(inner)).every((i) => a.includes(i))).toBe(true);
    expect(held.labelCounts().reduce((s, c) => s + c, 0)).toBe(6);
    expect(() => d.split(0, 1)).toThrow('split fraction must be in (0, 1), got 0');
    expect(() => tiny(1).split(0.5)).toThrow(/split\(0.5\) of 1 examples leaves an empty part/);
  });

  it('keeps tf.memory().numTensors flat over an epoch when batches are disposed', async () => {
    const d = tiny(50, 3);
    const before = memory().numTensors;
    let batches = 0;
    for await (const b of d.batches({ batchSize: 8, shuffle: true, seed: 1 })) {
      expect(memory().numTensors).toBe(before + 2); // only this batch's xs and ys exist
      b.xs.dispose();
      b.ys.dispose();
      batches++;
    }
    expect(batches).toBe(7);
    expect(memory().numTensors).toBe(before);
    // leaving a loop early leaks nothing either
    for await (const b of d.batches({ batchSize: 8 })) {
      b.xs.dispose();
      b.ys.dispose();
      break;
    }
    expect(memory().numTensors).toBe(before);
  });

  it('rejects inconsistent data and bad arguments with messages that name the value and the rule', async () => {
    const make =
      (labels: number[], bytes = labels.length * 4) =>
      () =>
        new ImageDataset({
          name: 'bad',
          images: new Uint8Array(bytes),
          labels: Uint8Array.from(labels),
          imageShape: [2, 2, 1],
          classNames: ['a', 'b'],
        });
    expect(make([0, 1], 9)).toThrow('bad: 9 image bytes are not a whole number of 2×2×1 images');
    expect(make([0, 1], 12)).toThrow('bad: 2 labels for 3 images; there must be one label per image');
    expect(make([0, 2])).toThrow('bad: label 2 of example 1 is out of range: labels must be in [0, 2)');
    const e = await tiny(3)
      .batches({ batchSize: 0 })
      [Symbol.asyncIterator]()
      .next()
      .catch((x: unknown) => x);
    expect(isBnlabError(e, 'INVALID_ARGUMENT')).toBe(true);
    expect((e as Error).message).toBe('batchSize must be a positive integer, got 0');
    expect(() => tiny(2, 3).withScaling({ mean: [0.5], std: [1] })).toThrow('must have one value per channel (3)');
    expect(() => tiny(2).withScaling({ mean: [0.5], std: [0] })).toThrow('std (0) finite and positive');
  });

  it('takes the default of a batch option given as undefined', async () => {
    const d = tiny(5);
    const options = { batchSize: 2, shuffle: undefined, seed: undefined, dropRemainder: undefined };
    expect(await collect(d, options)).toEqual(await collect(d, { batchSize: 2 }));
    const shuffled = { batchSize: 2, shuffle: true, seed: undefined };
    expect(await collect(d, shuffled)).toEqual(await collect(d, { batchSize: 2, shuffle: true, seed: 0 }));
  });

  it('rejects indices beyond the images, naming the bad one', () => {
    const init = {
      name: 'views',
      images: new Uint8Array(3 * 4),
      labels: Uint8Array.from([0, 1, 0]),
      imageShape: [2, 2, 1] as const,
      classNames: ['a', 'b'],
    };
    expect(new ImageDataset({ ...init, indices: Uint32Array.from([2, 0]) }).label(0)).toBe(0);
    let e: unknown;
    try {
      new ImageDataset({ ...init, indices: Uint32Array.from([0, 3, 1]) });
    } catch (x) {
      e = x;
    }
    expect(isBnlabError(e, 'INVALID_ARGUMENT')).toBe(true);
    expect((e as Error).message).toBe('views: indices[1] is 3, beyond the 3 images: indices must be in [0, 3)');
  });
});

describe('ImageDataset batches with augment', () => {
  /** n images of 3×3×channels, every byte distinct within an image and none 0 (black is padding). */
  function distinct(n: number, channels: 1 | 3 = 3): ImageDataset {
    const bytes = 9 * channels;
    const images = Uint8Array.from({ length: n * bytes }, (_, k) => 1 + ((k * 7) % 251));
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 3);
    return new ImageDataset({ name: 'distinct', images, labels, imageShape: [3, 3, channels], classNames: ['a', 'b', 'c'] });
  }

  async function all(d: ImageDataset, options: Parameters<ImageDataset['batches']>[0]): Promise<{ xs: number[][]; ys: number[] }> {
    const xs: number[][] = [];
    const ys: number[] = [];
    for await (const b of d.batches(options)) {
      const values = Array.from(b.xs.dataSync());
      const per = values.length / b.size;
      for (let i = 0; i < b.size; i++) xs.push(values.slice(i * per, (i + 1) * per));
      ys.push(...Array.from(b.ys.dataSync()));
      b.xs.dispose();
      b.ys.dispose();
    }
    return { xs, ys };
  }

  /** What the augmenter of `seed` makes of the batches of `options` without augmentation, example by example. */
  async function expected(d: ImageDataset, options: Parameters<ImageDataset['batches']>[0], padding: number, flip: boolean) {
    const plain = await all(d.withScaling('raw'), { ...options, augment: undefined });
    const augmenter = new ImageAugmenter({
      augmentation: { padding, flip },
      imageShape: d.imageShape,
      table: d.scaling.table,
      seed: options.seed ?? 0,
    });
    const xs = plain.xs.map((bytes) => {
      const out = new Float32Array(bytes.length);
      augmenter.write(Uint8Array.from(bytes), 0, out, 0, augmenter.draw());
      return Array.from(out);
    });
    return { xs, ys: plain.ys };
  }

  it('crops and flips each example as its batch is made, in the order of the shuffle without augmentation', async () => {
    const d = distinct(40);
    const options = { batchSize: 16, shuffle: true, seed: 9, augment: { crop: { padding: 1 }, flip: true } };
    const got = await all(d, options);
    expect(got).toEqual(await expected(d, options, 1, true));
    // The labels, so the order, are those of the same shuffle without augmentation.
    expect(got.ys).toEqual((await all(d, { ...options, augment: undefined })).ys);
    // Some examples were changed, some flipped only, and the rest left as they are.
    const plain = (await all(d, { ...options, augment: undefined })).xs;
    expect(got.xs.filter((x, i) => JSON.stringify(x) !== JSON.stringify(plain[i])).length).toBeGreaterThan(20);
  });

  it('gives the same batches for the same seed, other batches for another seed, and draws per example whatever the batch size', async () => {
    const d = distinct(30);
    const augment = { crop: { padding: 2 }, flip: true };
    const a = await all(d, { batchSize: 8, shuffle: true, seed: 4, augment });
    expect(await all(d, { batchSize: 8, shuffle: true, seed: 4, augment })).toEqual(a);
    expect((await all(d, { batchSize: 8, shuffle: true, seed: 5, augment })).xs).not.toEqual(a.xs);
    expect(await all(d, { batchSize: 30, shuffle: true, seed: 4, augment })).toEqual(a);
    // Without shuffle too: the seed still seeds the augmentation.
    const unshuffled = await all(d, { batchSize: 8, seed: 1, augment });
    expect(unshuffled.ys).toEqual(Array.from({ length: 30 }, (_, i) => i % 3));
    expect(unshuffled.xs).not.toEqual((await all(d, { batchSize: 8, seed: 2, augment })).xs);
  });

  it('pads with black in every scaling: 0 with unit, (0 − mean) / std with standardize (torchvision pads before Normalize)', async () => {
    const d = distinct(50);
    for (const scaled of [d, d.withScaling('standardize'), d.withScaling({ mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] })]) {
      const options = { batchSize: 50, seed: 3, augment: { crop: { padding: 1 } } };
      const got = await all(scaled, options);
      const want = await expected(scaled, options, 1, false);
      got.xs.forEach((x, i) => x.forEach((v, k) => expect(v).toBeCloseTo(want.xs[i]?.[k] as number, 5)));
      const black = [0, 1, 2].map((c) => scaled.scaling.table[c * 256] as number);
      if (scaled.scaling.kind === 'unit') expect(black).toEqual([0, 0, 0]);
      else expect(black.every((v) => v < -1)).toBe(true);
      // Some crop starts in the top padding row: its first three pixels are black.
      const padded = got.xs.filter((x) => x.slice(0, 9).every((v, k) => Math.abs(v - (black[k % 3] as number)) < 1e-6));
      expect(padded.length).toBeGreaterThan(0);
    }
  });

  it('with nothing on (augment: {} or crop: false), gives the batches without augmentation', async () => {
    const d = distinct(10, 1);
    const plain = await all(d, { batchSize: 4, shuffle: true, seed: 2 });
    expect(await all(d, { batchSize: 4, shuffle: true, seed: 2, augment: {} })).toEqual(plain);
    expect(await all(d, { batchSize: 4, shuffle: true, seed: 2, augment: { crop: false, flip: false } })).toEqual(plain);
  });

  it('flips single-channel images, one batch of tensors at a time', async () => {
    const d = distinct(12, 1);
    const before = memory().numTensors;
    const options = { batchSize: 5, seed: 8, augment: { flip: true } };
    const got = await all(d, options);
    expect(memory().numTensors).toBe(before);
    expect(got).toEqual(await expected(d, options, 0, true));
  });

  it('refuses a bad augmentation when the first batch is asked for, naming the field', async () => {
    const refusal = (augment: unknown) =>
      distinct(3)
        .batches({ batchSize: 2, augment: augment as never })
        [Symbol.asyncIterator]()
        .next()
        .catch((x: unknown) => x);
    const e = await refusal({ crop: { padding: -1 } });
    expect(isBnlabError(e, 'INVALID_ARGUMENT')).toBe(true);
    expect((e as { where?: string }).where).toBe('augment.crop.padding');
    expect((e as Error).message).toBe('augment.crop.padding must be an integer of at least 0, got -1');
    expect(((await refusal({ crop: { padding: 3 } })) as Error).message).toMatch(
      /augment\.crop\.padding \(3\) must be smaller than the image's height \(3\) and width \(3\)/,
    );
    expect(((await refusal({ crop: { padding: 0.5 } })) as { where?: string }).where).toBe('augment.crop.padding');
    expect(((await refusal({ flip: 1 })) as { where?: string }).where).toBe('augment.flip');
  });
});
