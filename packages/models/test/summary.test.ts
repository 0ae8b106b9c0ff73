import { initBackend } from '@bnlab/core';
import { convNet4, formatSummary, kerasCnn, mlp, simpleCnn, summary } from '../src/index.js';
import type { ModelSummary } from '../src/index.js';

// Every expected count below is worked out by hand in the comments, with the Keras
// conventions: a conv k×k Cin→Cout has k·k·Cin·Cout kernel weights (+ Cout bias), a dense
// In→Out has In·Out (+ Out), BatchNormalization(C) has gamma and beta (2C trainable) plus
// moving mean and variance (2C non-trainable), Layer/Group/Instance norm(C) only gamma and
// beta (2C trainable). PyTorch counts BN's running statistics as buffers, not parameters, so
// its `sum(p.numel())` is our trainable count.

beforeAll(async () => {
  await initBackend();
});

const rows = (s: ModelSummary) => s.layers.map((l) => [l.name, l.trainableParams, l.nonTrainableParams]);

describe('summary', () => {
  test('kerasCnn without normalization matches the Keras tutorial model (93,322 params)', () => {
    const s = summary(kerasCnn());
    expect(s.layers.map((l) => [l.name, l.className, l.outputShape])).toEqual([
      ['block1_conv', 'Conv2D', [null, 26, 26, 32]], // 28 − 3 + 1 = 26
      ['pool1', 'MaxPooling2D', [null, 13, 13, 32]],
      ['block2_conv', 'Conv2D', [null, 11, 11, 64]],
      ['pool2', 'MaxPooling2D', [null, 5, 5, 64]], // floor(11 / 2)
      ['block3_conv', 'Conv2D', [null, 3, 3, 64]],
      ['flatten1', 'Flatten', [null, 576]], // 3·3·64
      ['block4_dense', 'Dense', [null, 64]],
      ['classifier', 'Dense', [null, 10]],
    ]);
    expect(rows(s)).toEqual([
      ['block1_conv', 3 * 3 * 1 * 32 + 32, 0], // 320
      ['pool1', 0, 0],
      ['block2_conv', 3 * 3 * 32 * 64 + 64, 0], // 18,496
      ['pool2', 0, 0],
      ['block3_conv', 3 * 3 * 64 * 64 + 64, 0], // 36,928
      ['flatten1', 0, 0],
      ['block4_dense', 576 * 64 + 64, 0], // 36,928
      ['classifier', 64 * 10 + 10, 0], // 650
    ]);
    expect(s.totalParams).toBe(93322);
    expect(s.trainableParams).toBe(93322);
    expect(s.nonTrainableParams).toBe(0);
  });

  test('kerasCnn with batch norm equals the PyTorch anchor cnn+BN (93,546 parameters, biases dropped)', () => {
    const s = summary(kerasCnn({ norm: { type: 'batch' } }));
    expect(rows(s)).toEqual([
      ['block1_conv', 288, 0], // 3·3·1·32, no bias
      ['block1_norm', 64, 64], // BN(32): gamma+beta, moving mean+var
      ['block1_act', 0, 0],
      ['pool1', 0, 0],
      ['block2_conv', 18432, 0], // 3·3·32·64
      ['block2_norm', 128, 128],
      ['block2_act', 0, 0],
      ['pool2', 0, 0],
      ['block3_conv', 36864, 0], // 3·3·64·64
      ['block3_norm', 128, 128],
      ['block3_act', 0, 0],
      ['flatten1', 0, 0],
      ['block4_dense', 36864, 0], // 576·64
      ['block4_norm', 128, 128],
      ['block4_act', 0, 0],
      ['classifier', 650, 0], // 64·10 + 10: the classifier keeps its bias
    ]);
    // 288+64+18432+128+36864+128+36864+128+650 = 93,546 (= PyTorch's parameter count)
    expect(s.trainableParams).toBe(93546);
    expect(s.nonTrainableParams).toBe(448); // 2·(32+64+64+64)
    expect(s.totalParams).toBe(93994);
  });

  test('kerasCnn with layer norm keeps the biases (layer norm across channels does not cancel them)', () => {
    const s = summary(kerasCnn({ norm: { type: 'layer' } }));
    // 93,322 + LN gamma/beta 2·(32+64+64+64) = 93,770
    expect(s.trainableParams).toBe(93770);
    expect(s.nonTrainableParams).toBe(0);
  });

  test('kerasCnn with instance norm normalizes the three convs only, without their biases', () => {
    const s = summary(kerasCnn({ norm: { type: 'instance' } }));
    // convs without bias 288+18432+36864, IN 2·(32+64+64), dense with bias 36928, classifier 650
    expect(s.trainableParams).toBe(288 + 18432 + 36864 + 2 * (32 + 64 + 64) + 36928 + 650);
    expect(s.layers.map((l) => l.name)).not.toContain('block4_norm');
  });

  test('mlp is seed 001: 109,386 params, and 110,154 with batch norm after each hidden ReLU', () => {
    const plain = summary(mlp());
    expect(rows(plain)).toEqual([
      ['flatten1', 0, 0],
      ['block1_dense', 784 * 128 + 128, 0], // 100,480
      ['block2_dense', 128 * 64 + 64, 0], // 8,256
      ['classifier', 64 * 10 + 10, 0], // 650
    ]);
    expect(plain.totalParams).toBe(109386);
    const bn = summary(mlp({ norm: { type: 'batch' }, placement: { position: 'after-activation' } }));
    // Keras's summary of seed 001's BN model: total 110,154, trainable 109,770, non-trainable 384.
    // The ReLU sits between Dense and BN, so the biases stay.
    expect(bn.totalParams).toBe(110154);
    expect(bn.trainableParams).toBe(109770);
    expect(bn.nonTrainableParams).toBe(384);
  });

  test('simpleCnn is seed 000: 225,034 params', () => {
    const s = summary(simpleCnn());
    expect(rows(s)).toEqual([
      ['block1_conv', 320, 0],
      ['pool1', 0, 0],
      ['block2_conv', 18496, 0],
      ['pool2', 0, 0],
      ['flatten1', 0, 0], // 5·5·64 = 1600
      ['block3_dense', 1600 * 128 + 128, 0], // 204,928
      ['classifier', 128 * 10 + 10, 0], // 1,290
    ]);
    expect(s.totalParams).toBe(225034);
  });

  test('convNet4 is seed 002 on 32×32×3: 331,338 params; on 28×28×1 the same but the first conv', () => {
    const s = summary(convNet4());
    expect(s.layers.map((l) => [l.name, l.outputShape, l.trainableParams])).toEqual([
      ['block1_conv', [null, 32, 32, 64], 3 * 3 * 3 * 64 + 64], // 1,792 ('same')
      ['pool1', [null, 16, 16, 64], 0],
      ['block2_conv', [null, 14, 14, 64], 3 * 3 * 64 * 64 + 64], // 36,928 ('valid')
      ['pool2', [null, 7, 7, 64], 0],
      ['block3_conv', [null, 7, 7, 128], 3 * 3 * 64 * 128 + 128], // 73,856
      ['pool3', [null, 4, 4, 128], 0], // ceil(7 / 2) with 'same'
      ['block4_conv', [null, 2, 2, 128], 3 * 3 * 128 * 128 + 128], // 147,584
      ['pool4', [null, 1, 1, 128], 0],
      ['flatten1', [null, 128], 0],
      ['block5_dense', [null, 512], 128 * 512 + 512], // 66,048
      ['classifier', [null, 10], 512 * 10 + 10], // 5,130
    ]);
    expect(s.totalParams).toBe(331338);
    const mnist = summary(convNet4({ inputShape: [28, 28, 1] }));
    // 28 → 28 → 14 → 12 → 6 → 6 → 3 → 1 → 1: the first conv has 3·3·1·64 + 64 = 640
    expect(mnist.totalParams).toBe(331338 - 1792 + 640);
    expect(mnist.layers.find((l) => l.name === 'flatten1')!.outputShape).toEqual([null, 128]);
  });

  test('a frozen layer counts all its weights as non-trainable', () => {
    const model = kerasCnn({ norm: { type: 'batch' } });
    model.getLayer('block1_conv').trainable = false;
    const s = summary(model);
    expect(s.layers[0]).toMatchObject({ trainableParams: 0, nonTrainableParams: 288 });
    expect(s.trainableParams).toBe(93546 - 288);
    expect(s.nonTrainableParams).toBe(448 + 288);
  });

  test('formatSummary prints one row per layer and the totals', () => {
    const text = formatSummary(summary(kerasCnn({ norm: { type: 'batch' } })));
    const lines = text.split('\n');
    expect(lines[0]).toBe('Model: kerasCnn');
    expect(lines).toHaveLength(1 + 1 + 1 + 16 + 1 + 1);
    expect(text).toMatch(/block1_conv\s+Conv2D\s+\[None,26,26,32\]\s+288\s+0/);
    expect(lines[lines.length - 1]).toBe('Total params: 93994 (trainable 93546, non-trainable 448)');
  });
});
