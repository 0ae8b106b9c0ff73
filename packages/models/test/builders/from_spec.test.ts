import type { LayersModel } from '@tensorflow/tfjs-layers';
import { initBackend } from '@bnlab/core';
import type { ModelSpec } from '@bnlab/core';
import { convNet4, fromSpec, kerasCnn, mlp, simpleCnn, summary } from '../../src/index.js';

beforeAll(async () => {
  await initBackend();
});

const layout = (m: LayersModel) => m.layers.map((l) => [l.name, l.getClassName(), JSON.stringify(l.outputShape)]);
/** Whether two models hold bit-identical weights, in the same order. */
function sameWeights(a: LayersModel, b: LayersModel): boolean {
  const wa = a.getWeights();
  const wb = b.getWeights();
  if (wa.length !== wb.length) return false;
  return wa.every((w, i) => Buffer.from(w.dataSync().buffer).equals(Buffer.from(wb[i]!.dataSync().buffer)));
}

describe('fromSpec', () => {
  test.each([
    ['mlp', mlp, [28, 28, 1]],
    ['simpleCnn', simpleCnn, [28, 28, 1]],
    ['kerasCnn', kerasCnn, [28, 28, 1]],
    ['convNet4', convNet4, [32, 32, 3]],
  ] as const)('architecture %s builds what the builder builds', (architecture, builder, inputShape) => {
    const spec: ModelSpec = {
      architecture,
      inputShape: [...inputShape],
      numClasses: 10,
      norm: { type: 'layer' },
      placement: { layers: [1, 2], position: 'after-activation' },
      options: { seed: 7 },
    };
    const a = fromSpec(spec);
    const { architecture: _, ...rest } = spec;
    const b = builder(rest as never);
    expect(layout(a)).toEqual(layout(b));
    expect(sameWeights(a, b)).toBe(true);
    expect(a.name).toBe(architecture);
  });

  test('a custom stack: conv/pool/dropout/dense blocks, automatic flatten, numbering over conv and dense', () => {
    const m = fromSpec({
      architecture: 'custom',
      inputShape: [12, 12, 3],
      numClasses: 4,
      norm: { type: 'group', groups: 4 },
      placement: { layers: [2, 3] },
      options: {
        name: 'tiny',
        activation: 'tanh',
        blocks: [
          { type: 'conv', filters: 8, padding: 'same' },
          { type: 'avgPool', poolSize: 2 },
          { type: 'conv', filters: 8, kernelSize: 3, strides: 2, activation: 'relu' },
          { type: 'dropout', rate: 0.25 },
          { type: 'dense', units: 16 },
        ],
      },
    });
    expect(m.name).toBe('tiny');
    expect(layout(m)).toEqual([
      ['block1_conv', 'Conv2D', '[null,12,12,8]'],
      ['pool1', 'AveragePooling2D', '[null,6,6,8]'],
      ['block2_conv', 'Conv2D', '[null,2,2,8]'], // (6 − 3) / 2 + 1 = 2
      ['block2_norm', 'bnlab>GroupNormalization', '[null,2,2,8]'],
      ['block2_act', 'Activation', '[null,2,2,8]'],
      ['dropout1', 'Dropout', '[null,2,2,8]'],
      ['flatten1', 'Flatten', '[null,32]'],
      ['block3_dense', 'Dense', '[null,16]'],
      ['block3_norm', 'bnlab>GroupNormalization', '[null,16]'],
      ['block3_act', 'Activation', '[null,16]'],
      ['classifier', 'Dense', '[null,4]'],
    ]);
    expect(m.getLayer('block1_conv').getConfig()).toMatchObject({ activation: 'tanh', useBias: true });
    expect(m.getLayer('block2_act').getConfig()).toMatchObject({ activation: 'relu' });
    expect(m.getLayer('block3_act').getConfig()).toMatchObject({ activation: 'tanh' });
    expect(m.getLayer('dropout1').getConfig()).toMatchObject({ rate: 0.25 });
    // Group norm with 4 groups of 2 channels keeps the conv/dense biases (see biasIsRedundant).
    // Params: 3·3·3·8+8 = 224; 3·3·8·8+8 = 584; GN 16; 32·16+16 = 528; GN 32; 16·4+4 = 68.
    expect(summary(m).totalParams).toBe(224 + 584 + 16 + 528 + 32 + 68);
  });

  test('normAfterPool moves an after-activation norm past the next pooling block only', () => {
    const spec = (normAfterPool: boolean): ModelSpec => ({
      architecture: 'custom',
      inputShape: [8, 8, 1],
      numClasses: 2,
      norm: { type: 'batch' },
      placement: { position: 'after-activation' },
      options: { blocks: [{ type: 'conv', filters: 4, normAfterPool }, { type: 'maxPool' }, { type: 'conv', filters: 4, normAfterPool }] },
    });
    expect(fromSpec(spec(true)).layers.map((l) => l.name)).toEqual([
      'block1_conv',
      'pool1',
      'block1_norm',
      'block2_conv',
      'block2_norm',
      'flatten1',
      'classifier',
    ]);
    expect(fromSpec(spec(false)).layers.map((l) => l.name)).toEqual([
      'block1_conv',
      'block1_norm',
      'pool1',
      'block2_conv',
      'block2_norm',
      'flatten1',
      'classifier',
    ]);
  });

  test('a pool after a flattened block is an error naming it', () => {
    expect(() =>
      fromSpec({
        architecture: 'custom',
        inputShape: [8, 8, 1],
        numClasses: 2,
        options: { blocks: [{ type: 'dense', units: 4 }, { type: 'maxPool' }] },
      }),
    ).toThrow('custom: pool 1 (maxPool) needs an image input, but it follows a flattened block');
  });

  test('a linear classifier for logits', () => {
    const m = fromSpec({
      architecture: 'mlp',
      inputShape: [4],
      numClasses: 3,
      options: { outputActivation: 'linear', hiddenUnits: [5] },
    });
    expect(m.layers.map((l) => l.name)).toEqual(['block1_dense', 'classifier']); // a flat input needs no Flatten
    expect(m.getLayer('classifier').getConfig()).toMatchObject({ activation: 'linear', units: 3 });
  });
});
