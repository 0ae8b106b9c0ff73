import type { LayersModel } from '@tensorflow/tfjs-layers';
import { initBackend } from '@bnlab/core';
import type { ModelSpec } from '@bnlab/core';
import { fromSpec, summary, validateModelSpec, vgg } from '../../src/index.js';
import { errorOf } from '../support/error_of';

// Parameter counts are worked out by hand below (a 3×3 conv Cin→Cout has 9·Cin·Cout weights +
// Cout bias; BN over C channels 2C trainable and 2C non-trainable parameters).

beforeAll(async () => {
  await initBackend();
});

const convs = (m: LayersModel) => m.layers.filter((l) => l.getClassName() === 'Conv2D');

describe('vgg', () => {
  // VGG-11 (configuration A) on 32×32×3: 64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M.
  //   conv weights 9·(3·64 + 64·128 + 128·256 + 256·256 + 256·512 + 3·512·512)
  //              = 9·(192 + 8,192 + 32,768 + 65,536 + 131,072 + 786,432) = 9·1,024,192 = 9,217,728
  //   biases 64 + 128 + 2·256 + 4·512 = 2,752; classifier 512·10 + 10 = 5,130
  const WEIGHTS = 9 * (3 * 64 + 64 * 128 + 128 * 256 + 256 * 256 + 256 * 512 + 3 * 512 * 512);
  const CHANNELS = 64 + 128 + 2 * 256 + 4 * 512;

  test('VGG-11 without normalization: 9,225,610 parameters', () => {
    expect(WEIGHTS).toBe(9217728);
    expect(CHANNELS).toBe(2752);
    const s = summary(vgg({ options: { depth: 11 } }));
    expect(s.trainableParams).toBe(WEIGHTS + CHANNELS + 5130);
    expect(s.trainableParams).toBe(9225610);
    expect(s.nonTrainableParams).toBe(0);
  });

  test('VGG-11 with batch norm: 9,228,362 trainable (biases dropped, gamma and beta added), 5,504 moving statistics', () => {
    // 9,217,728 + 2·2,752 + 5,130 = 9,228,362. (PyTorch's vgg11_bn-style CIFAR model keeps the
    // conv biases: 9,231,114.)
    const s = summary(vgg({ norm: { type: 'batch' }, options: { depth: 11 } }));
    expect(s.trainableParams).toBe(WEIGHTS + 2 * CHANNELS + 5130);
    expect(s.trainableParams).toBe(9228362);
    expect(s.nonTrainableParams).toBe(2 * CHANNELS);
    expect(summary(vgg({ norm: { type: 'batch' }, options: { depth: 11, keepBias: true } })).trainableParams).toBe(9231114);
  });

  test('layout of VGG-11-BN: conv → norm → act per conv, a pool per stage, 1×1×512 into the classifier', () => {
    const m = vgg({ norm: { type: 'batch' }, options: { depth: 11 } });
    expect(m.layers.map((l) => l.name)).toEqual([
      'block1_conv',
      'block1_norm',
      'block1_act',
      'pool1',
      'block2_conv',
      'block2_norm',
      'block2_act',
      'pool2',
      'block3_conv',
      'block3_norm',
      'block3_act',
      'block4_conv',
      'block4_norm',
      'block4_act',
      'pool3',
      'block5_conv',
      'block5_norm',
      'block5_act',
      'block6_conv',
      'block6_norm',
      'block6_act',
      'pool4',
      'block7_conv',
      'block7_norm',
      'block7_act',
      'block8_conv',
      'block8_norm',
      'block8_act',
      'pool5',
      'flatten1',
      'classifier',
    ]);
    expect(m.getLayer('pool5').outputShape).toEqual([null, 1, 1, 512]); // 32 / 2⁵
    expect(convs(m).map((l) => l.getConfig().filters)).toEqual([64, 128, 256, 256, 512, 512, 512, 512]);
    expect(convs(m).every((l) => l.getConfig().padding === 'same' && (l.getConfig().kernelSize as number[])[0] === 3)).toBe(true);
    expect(m.getLayer('block1_conv').getConfig().kernelInitializer).toMatchObject({
      className: 'VarianceScaling',
      config: { scale: 2, mode: 'fanIn', distribution: 'uniform' },
    });
  });

  test('depths 13 and 16 (the default) have 10 and 13 convolutions', () => {
    expect(convs(vgg({ options: { depth: 13 } })).map((l) => l.getConfig().filters)).toEqual([
      64, 64, 128, 128, 256, 256, 512, 512, 512, 512,
    ]);
    expect(convs(vgg()).map((l) => l.getConfig().filters)).toEqual([64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]);
  });

  test('after-activation norm, a hidden head with dropout, and fromSpec', () => {
    const spec: ModelSpec = {
      architecture: 'vgg',
      inputShape: [32, 32, 3],
      numClasses: 100,
      norm: { type: 'batch' },
      placement: { position: 'after-activation' },
      options: { depth: 11, hiddenUnits: [512, 512], dropout: 0.5, seed: 1 },
    };
    expect(validateModelSpec(spec)).toEqual(spec);
    const m = fromSpec(spec);
    expect(m.layers.map((l) => l.name).slice(-9)).toEqual([
      'pool5',
      'flatten1',
      'block9_dense',
      'block9_norm',
      'dropout1',
      'block10_dense',
      'block10_norm',
      'dropout2',
      'classifier',
    ]);
    expect(m.getLayer('block1_conv').getConfig()).toMatchObject({ activation: 'relu', useBias: true });
    expect(m.getLayer('dropout2').getConfig()).toMatchObject({ rate: 0.5 });
    // 9,225,610 − 5,130 + (512·512 + 512)·2 + 512·100 + 100, plus BN's gamma/beta on 2,752 + 1,024 channels.
    expect(summary(m).trainableParams).toBe(9225610 - 5130 + 2 * (512 * 512 + 512) + 512 * 100 + 100 + 2 * (2752 + 1024));
  });

  test.each([
    [{ depth: 19 }, 'vgg: `options.depth` (19) must be 11, 13 or 16 (VGG-11, VGG-13, VGG-16)', 'options.depth'],
    [{ depth: '16' }, "vgg: `options.depth` ('16') must be 11, 13 or 16", 'options.depth'],
    [
      { dropout: 0.5 },
      'vgg: `options.dropout` (0.5) has no effect: it adds dropout after each hidden dense layer, and `options.hiddenUnits` is empty',
      'options.dropout',
    ],
    [{ hiddenUnits: [512], dropout: 1 }, 'vgg: `options.dropout` (1) must be a number in [0, 1)', 'options.dropout'],
  ])('bad options %j are INVALID_CONFIG naming the field', (options, message, where) => {
    const spec = { architecture: 'vgg', inputShape: [32, 32, 3], numClasses: 10, options } as ModelSpec;
    for (const check of [() => vgg({ options } as never), () => fromSpec(spec), () => validateModelSpec(spec)]) {
      const e = errorOf(check);
      expect(e.code).toBe('INVALID_CONFIG');
      expect(e.message).toContain(message);
      expect(e.where).toBe(where);
    }
  });

  test('an input smaller than 32×32 is INVALID_SHAPE naming the layer', () => {
    const e = errorOf(() => vgg({ inputShape: [16, 16, 3], options: { depth: 11 } }));
    expect(e.code).toBe('INVALID_SHAPE');
    expect(e.message).toContain(
      'vgg: pool 5 (maxPool) cannot take an input of shape [1,1,512]: its output would have shape [0,0,512], which is empty',
    );
    expect(e.where).toBe('pool 5 (maxPool)');
  });
});
