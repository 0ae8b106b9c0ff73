import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { BnlabError, initBackend } from '@bnlab/core';
import type { NormalizationSpec } from '@bnlab/core';
import { biasIsRedundant, convNet4, fromSpec, kerasCnn, mlp, validateModelSpec } from '../src/index.js';
import type { ModelSpec } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

const names = (m: LayersModel) => m.layers.map((l) => l.name);
const config = (m: LayersModel, name: string) => m.getLayer(name).getConfig() as Record<string, unknown>;

function expectError(fn: () => unknown, code: string, ...fragments: string[]): BnlabError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(BnlabError);
  expect((caught as BnlabError).code).toBe(code);
  for (const f of fragments) expect((caught as BnlabError).message).toContain(f);
  return caught as BnlabError;
}

describe('placement: position', () => {
  test("'before-activation' builds conv (linear, no bias) → norm → activation in every block", () => {
    const m = kerasCnn({ norm: { type: 'batch' } });
    expect(names(m)).toEqual([
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
      'flatten1',
      'block4_dense',
      'block4_norm',
      'block4_act',
      'classifier',
    ]);
    expect(config(m, 'block1_conv')).toMatchObject({ activation: 'linear', useBias: false });
    expect(config(m, 'block4_dense')).toMatchObject({ activation: 'linear', useBias: false });
    expect(config(m, 'block1_act')).toMatchObject({ activation: 'relu' });
    expect(config(m, 'classifier')).toMatchObject({ activation: 'softmax', useBias: true, units: 10 });
  });

  test("'after-activation' builds conv (with activation and bias) → norm", () => {
    const m = kerasCnn({ norm: { type: 'batch' }, placement: { position: 'after-activation' } });
    expect(names(m)).toEqual([
      'block1_conv',
      'block1_norm',
      'pool1',
      'block2_conv',
      'block2_norm',
      'pool2',
      'block3_conv',
      'block3_norm',
      'flatten1',
      'block4_dense',
      'block4_norm',
      'classifier',
    ]);
    expect(config(m, 'block2_conv')).toMatchObject({ activation: 'relu', useBias: true });
  });

  test('the two positions compute relu(BN(xW)) and BN(relu(xW + b)) (checked against plain arithmetic)', () => {
    // One dense block 3 → 2, BN in training mode (batch statistics), then an identity classifier.
    const x = [
      [1, 2, 0.5],
      [-1, 0, 2],
      [3, -2, 1],
      [0.5, 1, -1],
    ];
    const W = [
      [0.5, -1],
      [1, 0.25],
      [-0.5, 2],
    ];
    const b = [0.3, -0.7];
    const gamma = [1.5, 0.5];
    const beta = [0.1, -0.2];
    const eps = 1e-3;
    const relu = (v: number) => Math.max(0, v);
    const matmul = (bias: number[]) => x.map((row) => [0, 1].map((j) => row.reduce((s, xi, i) => s + xi * W[i]![j]!, bias[j]!)));
    const bn = (z: number[][]) => {
      const out = z.map((r) => [...r]);
      for (const j of [0, 1]) {
        const col = z.map((r) => r[j]!);
        const mean = col.reduce((s, v) => s + v, 0) / col.length;
        const variance = col.reduce((s, v) => s + (v - mean) ** 2, 0) / col.length; // biased, as in training
        col.forEach((v, i) => (out[i]![j] = (gamma[j]! * (v - mean)) / Math.sqrt(variance + eps) + beta[j]!));
      }
      return out;
    };
    const expected = {
      'before-activation': bn(matmul([0, 0])).map((r) => r.map(relu)),
      'after-activation': bn(matmul(b).map((r) => r.map(relu))),
    } as const;
    for (const position of ['before-activation', 'after-activation'] as const) {
      const m = fromSpec({
        architecture: 'custom',
        inputShape: [3],
        numClasses: 2,
        norm: { type: 'batch' },
        placement: { position },
        options: { outputActivation: 'linear', blocks: [{ type: 'dense', units: 2 }] },
      });
      const dense = m.getLayer('block1_dense');
      dense.setWeights(position === 'before-activation' ? [tf.tensor2d(W)] : [tf.tensor2d(W), tf.tensor1d(b)]);
      const norm = m.getLayer('block1_norm');
      const [, , movingMean, movingVar] = norm.getWeights();
      norm.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta), movingMean!, movingVar!]);
      m.getLayer('classifier').setWeights([tf.eye(2), tf.zeros([2])]);
      const y = (m.apply(tf.tensor2d(x), { training: true }) as tf.Tensor).arraySync() as number[][];
      const want = expected[position];
      y.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 5)));
    }
  });
});

describe('placement: layers', () => {
  test('a list normalizes only the blocks it names; the others keep bias and fused activation', () => {
    const m = kerasCnn({ norm: { type: 'batch' }, placement: { layers: [2] } });
    expect(names(m).filter((n) => n.endsWith('_norm'))).toEqual(['block2_norm']);
    expect(config(m, 'block1_conv')).toMatchObject({ activation: 'relu', useBias: true });
    expect(config(m, 'block2_conv')).toMatchObject({ activation: 'linear', useBias: false });
    expect(config(m, 'block4_dense')).toMatchObject({ activation: 'relu', useBias: true });
  });

  test('block numbers count conv and dense blocks only, from 1 (mlp: the hidden dense layers)', () => {
    const m = mlp({ norm: { type: 'layer' }, placement: { layers: [2] }, options: { hiddenUnits: [32, 16, 8] } });
    expect(names(m)).toEqual(['flatten1', 'block1_dense', 'block2_dense', 'block2_norm', 'block2_act', 'block3_dense', 'classifier']);
  });

  test("convNet4 'seed' layout puts an after-activation norm of blocks 1 and 3 after their pooling, as seed 002", () => {
    const seed = convNet4({ norm: { type: 'batch' }, placement: { layers: [1, 2, 3, 4], position: 'after-activation' } });
    expect(names(seed)).toEqual([
      'block1_conv',
      'pool1',
      'block1_norm',
      'block2_conv',
      'block2_norm',
      'pool2',
      'block3_conv',
      'pool3',
      'block3_norm',
      'block4_conv',
      'block4_norm',
      'pool4',
      'flatten1',
      'block5_dense',
      'classifier',
    ]);
    const uniform = convNet4({
      norm: { type: 'batch' },
      placement: { layers: [1, 3], position: 'after-activation' },
      options: { layout: 'uniform' },
    });
    expect(names(uniform).slice(0, 8)).toEqual([
      'block1_conv',
      'block1_norm',
      'pool1',
      'block2_conv',
      'pool2',
      'block3_conv',
      'block3_norm',
      'pool3',
    ]);
    const before = convNet4({ norm: { type: 'batch' }, placement: { layers: [1] } });
    expect(names(before).slice(0, 4)).toEqual(['block1_conv', 'block1_norm', 'block1_act', 'pool1']);
  });

  test("'all' skips the dense blocks for instance norm; naming one, or a model without convs, is an error", () => {
    const m = kerasCnn({ norm: { type: 'instance' } });
    expect(names(m).filter((n) => n.endsWith('_norm'))).toEqual(['block1_norm', 'block2_norm', 'block3_norm']);
    expectError(
      () => kerasCnn({ norm: { type: 'instance' }, placement: { layers: [3, 4] } }),
      'INVALID_CONFIG',
      '`placement.layers` ([3,4]) includes block 4 (dense, 64 units)',
      'instance normalization needs a conv block',
    );
    expectError(() => mlp({ norm: { type: 'instance' } }), 'INVALID_CONFIG', 'mlp: `norm`', 'applies to no block');
  });

  test('a block number the model does not have is an error naming the range', () => {
    expectError(
      () => kerasCnn({ norm: { type: 'batch' }, placement: { layers: [1, 5] } }),
      'INVALID_CONFIG',
      'kerasCnn: `placement.layers` ([1,5]) must list block numbers from 1 to 4',
    );
    expectError(
      () => kerasCnn({ norm: { type: 'batch' }, placement: { layers: [2, 2] } }),
      'INVALID_CONFIG',
      '`placement.layers` ([2,2]) must not list a block twice',
    );
    expectError(
      () => kerasCnn({ norm: { type: 'batch' }, placement: { layers: [0] } }),
      'INVALID_CONFIG',
      '`placement.layers[0]` (0) must be a positive integer',
    );
  });

  test("an empty list is an error naming placement.layers and pointing to norm 'none'", () => {
    const spec: ModelSpec = {
      architecture: 'kerasCnn',
      inputShape: [28, 28, 1],
      numClasses: 10,
      norm: { type: 'batch' },
      placement: { layers: [] },
    };
    for (const check of [() => fromSpec(spec), () => validateModelSpec(spec)]) {
      const e = expectError(
        check,
        'INVALID_CONFIG',
        'kerasCnn: `placement.layers` ([]) must list at least one block number, from 1 to 4',
        "use `norm: { type: 'none' }`",
      );
      expect(e.where).toBe('placement.layers');
    }
  });

  test("norm 'none' builds the plain model whatever the placement", () => {
    const m = kerasCnn({ norm: { type: 'none' }, placement: { layers: [1], position: 'after-activation' } });
    expect(names(m)).toEqual(names(kerasCnn()));
  });
});

describe('bias', () => {
  // Whether a conv bias is redundant before a normalization, observed on the layers themselves:
  // the norm's output (training mode) with a random bias versus with the bias zeroed.
  function biasChangesOutput(norm: NormalizationSpec, dense: boolean): boolean {
    const m = fromSpec({
      architecture: 'custom',
      inputShape: dense ? [6] : [5, 5, 2],
      numClasses: 2,
      norm,
      options: {
        keepBias: true,
        seed: 3,
        activation: 'linear',
        blocks: [dense ? { type: 'dense', units: 4 } : { type: 'conv', filters: 4 }],
      },
    });
    const weightLayer = m.getLayer(dense ? 'block1_dense' : 'block1_conv');
    const normOut = tfl.model({ inputs: m.inputs, outputs: m.getLayer('block1_norm').output as SymbolicTensor });
    const x = tf.randomNormal(dense ? [8, 6] : [3, 5, 5, 2], 0, 1, 'float32', 11);
    const [kernel] = weightLayer.getWeights();
    weightLayer.setWeights([kernel!, tf.tensor1d([2, -3, 0.5, 4])]);
    const withBias = normOut.apply(x, { training: true }) as tf.Tensor;
    weightLayer.setWeights([kernel!, tf.zeros([4])]);
    const without = normOut.apply(x, { training: true }) as tf.Tensor;
    return tf.max(tf.abs(tf.sub(withBias, without))).dataSync()[0]! > 1e-2;
  }

  const convCases: [string, NormalizationSpec][] = [
    ['batch', { type: 'batch' }],
    ['instance', { type: 'instance' }],
    ['group, one channel per group (-1)', { type: 'group', groups: -1 }],
    ['group, groups = channels', { type: 'group', groups: 4 }],
    ['group, 2 groups of 2 channels', { type: 'group', groups: 2 }],
    ['layer across channels (axis -1)', { type: 'layer' }],
    ['layer over space only (axes 1, 2)', { type: 'layer', axis: [1, 2] }],
    ['layer over everything (axes 1, 2, 3)', { type: 'layer', axis: [1, 2, 3] }],
  ];
  test.each(convCases)('conv → %s: biasIsRedundant agrees with what the layer computes', (_, norm) => {
    const changes = biasChangesOutput(norm, false);
    expect(biasIsRedundant(norm, 4, 4)).toBe(!changes);
  });

  const denseCases: [string, NormalizationSpec][] = [
    ['batch', { type: 'batch' }],
    ['layer', { type: 'layer' }],
    ['group, 2 groups', { type: 'group', groups: 2 }],
    ['group, groups = units', { type: 'group', groups: 4 }],
  ];
  test.each(denseCases)('dense → %s: biasIsRedundant agrees with what the layer computes', (_, norm) => {
    const changes = biasChangesOutput(norm, true);
    expect(biasIsRedundant(norm, 2, 4)).toBe(!changes);
  });

  test('the builders drop exactly the redundant biases; keepBias keeps them; after-activation never drops', () => {
    // Group norm with the default 32 groups: one channel per group on the 32-filter conv only.
    const gn = kerasCnn({ norm: { type: 'group' } });
    expect(['block1_conv', 'block2_conv', 'block3_conv', 'block4_dense'].map((n) => config(gn, n)['useBias'])).toEqual([
      false,
      true,
      true,
      true,
    ]);
    const kept = kerasCnn({ norm: { type: 'batch' }, options: { keepBias: true } });
    expect(config(kept, 'block1_conv')['useBias']).toBe(true);
    const after = kerasCnn({ norm: { type: 'batch' }, placement: { position: 'after-activation' } });
    expect(config(after, 'block1_conv')['useBias']).toBe(true);
    // With a linear activation the norm follows the conv directly even "after" the activation.
    const linear = kerasCnn({
      norm: { type: 'batch' },
      placement: { position: 'after-activation' },
      options: { activation: 'linear' },
    });
    expect(config(linear, 'block1_conv')['useBias']).toBe(false);
  });
});

describe('placement: normAfterPool', () => {
  const custom = (blocks: unknown[], placement: ModelSpec['placement'], norm: ModelSpec['norm'] = { type: 'batch' }): ModelSpec =>
    ({ architecture: 'custom', inputShape: [8, 8, 1], numClasses: 2, norm, placement, options: { blocks } }) as ModelSpec;
  const conv = { type: 'conv', filters: 4, normAfterPool: true };
  const after = { position: 'after-activation' } as const;

  test.each([
    [
      'the block is not directly followed by a pool',
      custom([conv, { type: 'dropout', rate: 0.25 }, { type: 'maxPool' }], after),
      'block 1 (conv, 4 filters) is followed by dropout 0.25, not by a maxPool or avgPool block',
    ],
    [
      'the position is before-activation',
      custom([conv, { type: 'maxPool' }], { position: 'before-activation' }),
      "with `placement.position` 'after-activation' only, but `placement.position` is 'before-activation'",
    ],
    [
      'the block is not normalized',
      custom([conv, { type: 'maxPool' }, { type: 'conv', filters: 4 }], { layers: [2], position: 'after-activation' }),
      'block 1 (conv, 4 filters) is not normalized (`placement.layers` is [2])',
    ],
  ])('set where it can never take effect (%s) is an error naming the field', (_, spec, reason) => {
    for (const check of [() => fromSpec(spec), () => validateModelSpec(spec)]) {
      const e = expectError(check, 'INVALID_CONFIG', 'custom: `options.blocks[0].normAfterPool` (true) has no effect', reason);
      expect(e.where).toBe('options.blocks[0].normAfterPool');
    }
  });

  test('taking effect on one block is enough: the others keep their norm after the activation', () => {
    const spec = custom([conv, { type: 'maxPool' }, conv, { type: 'dropout', rate: 0.25 }], after);
    expect(validateModelSpec(spec)).toEqual(spec);
    expect(names(fromSpec(spec))).toEqual([
      'block1_conv',
      'pool1',
      'block1_norm',
      'block2_conv',
      'block2_norm',
      'dropout1',
      'flatten1',
      'classifier',
    ]);
    // Without the block where it takes effect, the other's flag does nothing: an error.
    const alone = custom([{ type: 'conv', filters: 4 }, { type: 'maxPool' }, conv, { type: 'dropout', rate: 0.25 }], after);
    expectError(() => validateModelSpec(alone), 'INVALID_CONFIG', '`options.blocks[2].normAfterPool` (true) has no effect');
    // norm 'none' ignores the placement; the builders' own flags (convNet4's seed layout) are not checked.
    expect(names(fromSpec(custom([conv, { type: 'dropout', rate: 0.25 }], after, { type: 'none' })))).toEqual([
      'block1_conv',
      'dropout1',
      'flatten1',
      'classifier',
    ]);
    expect(() =>
      validateModelSpec({ architecture: 'convNet4', inputShape: [32, 32, 3], numClasses: 10, norm: { type: 'batch' } }),
    ).not.toThrow();
  });
});

describe('the norm must fit every block it normalizes (checked before building)', () => {
  const spec = (architecture: 'kerasCnn' | 'mlp', norm: NormalizationSpec, options: object = {}, layers?: number[]): ModelSpec =>
    ({
      architecture,
      inputShape: [28, 28, 1],
      numClasses: 10,
      norm,
      ...(layers ? { placement: { layers } } : {}),
      options,
    }) as ModelSpec;

  test.each([
    [
      'a group count that does not divide a conv block’s filters',
      spec('kerasCnn', { type: 'group', groups: 5 }),
      'kerasCnn: `norm.groups` (5) must divide the number of channels of every normalized block, but block 1 (conv, 32 filters) has 32',
      'norm.groups',
    ],
    [
      'the default group count (32) and a dense block of 100 units',
      spec('mlp', { type: 'group' }, { hiddenUnits: [100] }),
      'mlp: `norm.groups` (32, the default) must divide the number of channels of every normalized block, but block 1 (dense, 100 units) has 100',
      'norm.groups',
    ],
    [
      'layer norm axes of an image reaching a dense block',
      spec('kerasCnn', { type: 'layer', axis: [1, 2, 3] }),
      'kerasCnn: `norm.axis` ([1,2,3]) must only name axes in [-2, 1] for block 4 (dense, 64 units), whose output has rank 2',
      'norm.axis',
    ],
    [
      'a negative layer norm axis that is the batch axis',
      spec('mlp', { type: 'layer', axis: -2 }),
      'mlp: `norm.axis` (-2) must not name the batch axis 0, but for block 1 (dense, 128 units)',
      'norm.axis',
    ],
    [
      'layer norm axes that are the same axis once resolved',
      spec('kerasCnn', { type: 'layer', axis: [-1, 3] }, {}, [1]),
      'kerasCnn: `norm.axis` ([-1,3]) must name distinct axes, but for block 1 (conv, 32 filters), whose output has rank 4 (batch axis included), they are [3,3]',
      'norm.axis',
    ],
    [
      'a batch norm axis beyond a dense block’s rank',
      spec('mlp', { type: 'batch', axis: 2 }),
      'mlp: `norm.axis` (2) must be in [-2, 1] for block 1 (dense, 128 units)',
      'norm.axis',
    ],
  ])('%s is INVALID_CONFIG from validateModelSpec and fromSpec alike', (_, s, message, where) => {
    for (const check of [() => validateModelSpec(s), () => fromSpec(s)]) {
      const e = expectError(check, 'INVALID_CONFIG', message);
      expect(e.where).toBe(where);
    }
  });

  test('validateModelSpec passes exactly the specs fromSpec builds', () => {
    const fits = (s: ModelSpec, check: (s: ModelSpec) => unknown): boolean => {
      try {
        check(s);
        return true;
      } catch {
        return false;
      }
    };
    const cases: [ModelSpec, boolean][] = [
      [spec('kerasCnn', { type: 'group', groups: 8 }), true],
      [spec('kerasCnn', { type: 'group' }), true], // 32 divides 32, 64 and 64
      [spec('kerasCnn', { type: 'group', groups: 5 }), false],
      [spec('mlp', { type: 'group', groups: -1 }, { hiddenUnits: [100] }), true],
      [spec('mlp', { type: 'group' }, { hiddenUnits: [100] }), false],
      [spec('kerasCnn', { type: 'layer', axis: [1, 2, 3] }, {}, [1, 2, 3]), true],
      [spec('kerasCnn', { type: 'layer', axis: [1, 2, 3] }), false],
      [spec('kerasCnn', { type: 'layer', axis: [-3, -2, -1] }, {}, [1, 3]), true],
      [spec('mlp', { type: 'layer', axis: -2 }), false],
      [spec('mlp', { type: 'batch', axis: -1 }), true],
    ];
    for (const [s, ok] of cases) {
      expect([JSON.stringify(s.norm), fits(s, fromSpec)]).toEqual([JSON.stringify(s.norm), ok]);
      expect([JSON.stringify(s.norm), fits(s, validateModelSpec)]).toEqual([JSON.stringify(s.norm), ok]);
    }
  });
});

describe('errors carry the block', () => {
  test('a group count that does not divide a spatial axis (known only when built) names the block, the value and the field', () => {
    // Group norm over axis 1 (the height, 6 after a 3×3 valid conv of 8×8): only the layer sees it.
    const e = expectError(
      () =>
        fromSpec({
          architecture: 'custom',
          inputShape: [8, 8, 1],
          numClasses: 2,
          norm: { type: 'group', groups: 4, axis: 1 },
          options: { blocks: [{ type: 'conv', filters: 4 }] },
        }),
      'INVALID_CONFIG',
      'custom: block 1 (conv, 4 filters) normalization',
      '`groups` (4) must divide the number of channels (6) on axis 1',
    );
    expect(e.where).toBe('norm.groups');
  });

  test('an input too small for the architecture is INVALID_SHAPE naming the block and the shape', () => {
    // 8 → conv 6 → pool 3 → conv 1 → pool 0: tfjs builds the empty pooling output; we stop there.
    expectError(
      () => kerasCnn({ inputShape: [8, 8, 1] }),
      'INVALID_SHAPE',
      'kerasCnn: pool 2 (maxPool) cannot take an input of shape [1,1,64]: its output would have shape [0,0,64], which is empty',
    );
    // A conv too large for its input is tfjs's own shape error.
    expectError(
      () => kerasCnn({ inputShape: [2, 2, 1] }),
      'INVALID_SHAPE',
      'kerasCnn: block 1 (conv, 32 filters) cannot take an input of shape [2,2,1]',
    );
  });

  test('a conv builder given a flat input names inputShape', () => {
    expectError(() => kerasCnn({ inputShape: [784] }), 'INVALID_SHAPE', 'kerasCnn: `inputShape` ([784]) must be [height, width, channels]');
  });
});
