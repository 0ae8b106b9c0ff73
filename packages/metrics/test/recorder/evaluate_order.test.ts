import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initTestBackend } from '../helpers/backend';
import { evaluateModel } from '../../src/recorder/evaluate';

beforeAll(initTestBackend);

/** Sixteen examples stored class by class (eight of class 0, then eight of class 1). */
function sorted() {
  const xs = tf.tensor2d(Array.from({ length: 16 }, (_, i) => [i, i < 8 ? -1 : 1]));
  const ys = tf.tensor1d(
    Array.from({ length: 16 }, (_, i) => (i < 8 ? 0 : 1)),
    'int32',
  );
  return { xs, ys };
}

function model() {
  const m = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [2], activation: 'softmax', kernelInitializer: 'ones' })] });
  return m;
}

/** The classes of each batch the loss saw. */
async function batchesSeen(shuffleSeed?: number): Promise<number[][]> {
  const seen: number[][] = [];
  const loss = (ys: tf.Tensor, pred: tf.Tensor) => {
    seen.push(Array.from(ys.dataSync()));
    return tf.mean(tf.square(tf.sub(pred, pred)));
  };
  const data = sorted();
  await evaluateModel(model(), data, { batchSize: 4, loss, ...(shuffleSeed !== undefined ? { shuffleSeed } : {}) });
  tf.dispose([data.xs, data.ys]);
  return seen;
}

test('shuffleSeed evaluates in a seeded order: batches of class-sorted data mix classes, the same seed the same batches', async () => {
  const inOrder = await batchesSeen();
  expect(inOrder.every((b) => new Set(b).size === 1)).toBe(true);
  const shuffled = await batchesSeen(7);
  expect(shuffled.some((b) => new Set(b).size === 2)).toBe(true);
  expect(shuffled.flat().sort()).toEqual(inOrder.flat().sort());
  expect(await batchesSeen(7)).toEqual(shuffled);
  expect(await batchesSeen(8)).not.toEqual(shuffled);
});

test('in inference mode the order does not change the figures', async () => {
  const data = sorted();
  const m = model();
  m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  const a = await evaluateModel(m, data, { batchSize: 4 });
  const b = await evaluateModel(m, data, { batchSize: 4, shuffleSeed: 3 });
  expect(b.accuracy).toBe(a.accuracy);
  expect(b.loss).toBeCloseTo(a.loss, 6);
  tf.dispose([data.xs, data.ys]);
});
