import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { activeBackend, initBackend, Rng } from '@bnlab/core';
import type { ModelSpec, NormalizationSpec } from '@bnlab/core';
import { fromSpec, resnet, summary, validateModelSpec, ZeroPadShortcut } from '../../src/index.js';
import type { BuilderSpec, ResNetOptions } from '../../src/index.js';
import { loadModel, saveModel } from '../../src/node.js';
import { errorOf } from '../support/error_of';

// Parameter counts are worked out by hand in the comments, as closed-form sums over the
// layers (PyTorch's count: batch norm's moving statistics are not parameters, they are the
// non-trainable count). A k×k conv Cin→Cout has k²·Cin·Cout weights (+ Cout bias), a norm
// over C channels 2C (gamma, beta), the classifier 64·10 + 10 = 650.

let root: string;
beforeAll(async () => {
  await initBackend();
  root = mkdtempSync(join(tmpdir(), 'bnlab-resnet-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const names = (m: LayersModel) => m.layers.map((l) => l.name);
const inbound = (m: LayersModel, layer: string): string[] =>
  (m.getLayer(layer) as unknown as { inboundNodes: { inboundLayers: { name: string }[] }[] }).inboundNodes[0]!.inboundLayers.map(
    (l) => l.name,
  );

describe('parameter counts (ResNet-20: n = 3 blocks per stage)', () => {
  // Conv weights of ResNet-20, by stage:
  //   stem 3·3·3·16 = 432
  //   stage 1: 6 convs 16→16: 6·2304 = 13,824
  //   stage 2: 3·3·16·32 = 4,608 + 5 convs 32→32: 5·9,216 = 46,080 → 50,688
  //   stage 3: 3·3·32·64 = 18,432 + 5 convs 64→64: 5·36,864 = 184,320 → 202,752
  //   total 432 + 13,824 + 50,688 + 202,752 = 267,696
  const CONV_WEIGHTS = 432 + 6 * 2304 + (4608 + 5 * 9216) + (18432 + 5 * 36864);
  const CLASSIFIER = 64 * 10 + 10;

  test('batch norm, shortcut A: 269,722 trainable (the paper’s 0.27M)', () => {
    // Norms after each of the 19 convs: 7 over 16 channels, 6 over 32, 6 over 64 → gamma+beta
    // 2·(7·16 + 6·32 + 6·64) = 2·688 = 1,376. No conv bias (batch norm follows each), no
    // shortcut weights. 267,696 + 1,376 + 650 = 269,722.
    expect(CONV_WEIGHTS).toBe(267696);
    const s = summary(resnet({ norm: { type: 'batch' } }));
    expect(s.trainableParams).toBe(269722);
    expect(s.trainableParams).toBe(CONV_WEIGHTS + 2 * (7 * 16 + 6 * 32 + 6 * 64) + CLASSIFIER);
    expect(s.nonTrainableParams).toBe(1376); // moving mean and variance
  });

  test('batch norm, shortcut B: 272,474 trainable', () => {
    // Two 1×1 projections with their own batch norm: 16·32 + 2·32 = 576 and 32·64 + 2·64 = 2,176.
    // 269,722 + 576 + 2,176 = 272,474.
    const s = summary(resnet({ norm: { type: 'batch' }, options: { shortcut: 'B' } }));
    expect(s.trainableParams).toBe(269722 + (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64));
    expect(s.trainableParams).toBe(272474);
    expect(s.nonTrainableParams).toBe(1376 + 2 * 32 + 2 * 64);
  });

  test('no normalization: every conv keeps its bias, 269,034', () => {
    // Biases: stem 16, stage 1 6·16 = 96, stage 2 6·32 = 192, stage 3 6·64 = 384 → 688.
    // 267,696 + 688 + 650 = 269,034.
    const s = summary(resnet({ norm: { type: 'none' } }));
    expect(s.trainableParams).toBe(CONV_WEIGHTS + (16 + 6 * 16 + 6 * 32 + 6 * 64) + CLASSIFIER);
    expect(s.trainableParams).toBe(269034);
    expect(s.nonTrainableParams).toBe(0);
  });

  test('pre-activation: the same 269,722 with A, and 272,282 with B (projections without a norm)', () => {
    // Norms: each block's norm1 over its input channels, norm2 over its width, one final norm:
    //   stage 1: 3·(16 + 16); stage 2: (16 + 32) + 2·(32 + 32); stage 3: (32 + 64) + 2·(64 + 64); final 64
    //   = 96 + 176 + 352 + 64 = 688 channels → 1,376: 7 norms over 16 channels, 6 over 32 and
    //   6 over 64, as in the classic network. B adds the projections' 16·32 + 32·64 = 2,560
    //   weights only.
    const channels = 3 * 32 + (48 + 2 * 64) + (96 + 2 * 128) + 64;
    expect(channels).toBe(688);
    expect(summary(resnet({ norm: { type: 'batch' }, options: { preActivation: true } })).trainableParams).toBe(
      CONV_WEIGHTS + 2 * channels + CLASSIFIER,
    );
    expect(summary(resnet({ norm: { type: 'batch' }, options: { preActivation: true, shortcut: 'B' } })).trainableParams).toBe(
      CONV_WEIGHTS + 2 * channels + CLASSIFIER + 16 * 32 + 32 * 64,
    );
  });

  test('depth 6n + 2 sets the blocks per stage: ResNet-56 with batch norm has 853,018', () => {
    // n = 9. Stage 1: 18 convs 16→16: 41,472; stage 2: 4,608 + 17·9,216 = 161,280; stage 3:
    // 18,432 + 17·36,864 = 645,120; stem 432 → 848,304 weights. Norms: 19 over 16, 18 over 32,
    // 18 over 64 → 2·(304 + 576 + 1,152) = 4,064. + 650 → 853,018 (the paper's 0.85M).
    const weights = 432 + 18 * 2304 + (4608 + 17 * 9216) + (18432 + 17 * 36864);
    const expected = weights + 2 * (19 * 16 + 18 * 32 + 18 * 64) + CLASSIFIER;
    expect(expected).toBe(853018);
    expect(summary(resnet({ norm: { type: 'batch' }, options: { depth: 56 } })).trainableParams).toBe(expected);
  });
});

describe('structure', () => {
  test('ResNet-8, classic blocks, shortcut A: layers, shapes and connections', () => {
    const m = resnet({ inputShape: [32, 32, 3], norm: { type: 'batch' }, options: { depth: 8 } });
    const rows = m.layers.map((l) => [l.name, l.getClassName(), JSON.stringify(l.outputShape)]);
    expect(rows).toEqual([
      ['input', 'InputLayer', '[null,32,32,3]'],
      ['stem_conv', 'Conv2D', '[null,32,32,16]'],
      ['stem_norm', 'bnlab>BatchNormalization', '[null,32,32,16]'],
      ['stem_act', 'Activation', '[null,32,32,16]'],
      ['stage1_block1_conv1', 'Conv2D', '[null,32,32,16]'],
      ['stage1_block1_norm1', 'bnlab>BatchNormalization', '[null,32,32,16]'],
      ['stage1_block1_act1', 'Activation', '[null,32,32,16]'],
      ['stage1_block1_conv2', 'Conv2D', '[null,32,32,16]'],
      ['stage1_block1_norm2', 'bnlab>BatchNormalization', '[null,32,32,16]'],
      ['stage1_block1_add', 'Add', '[null,32,32,16]'],
      ['stage1_block1_out', 'Activation', '[null,32,32,16]'],
      ['stage2_block1_conv1_pad', 'ZeroPadding2D', '[null,34,34,16]'],
      ['stage2_block1_conv1', 'Conv2D', '[null,16,16,32]'], // (34 − 3) / 2 + 1 = 16
      ['stage2_block1_norm1', 'bnlab>BatchNormalization', '[null,16,16,32]'],
      ['stage2_block1_act1', 'Activation', '[null,16,16,32]'],
      ['stage2_block1_conv2', 'Conv2D', '[null,16,16,32]'],
      ['stage2_block1_norm2', 'bnlab>BatchNormalization', '[null,16,16,32]'],
      ['stage2_block1_shortcut', 'bnlab>ZeroPadShortcut', '[null,16,16,32]'],
      ['stage2_block1_add', 'Add', '[null,16,16,32]'],
      ['stage2_block1_out', 'Activation', '[null,16,16,32]'],
      ['stage3_block1_conv1_pad', 'ZeroPadding2D', '[null,18,18,32]'],
      ['stage3_block1_conv1', 'Conv2D', '[null,8,8,64]'],
      ['stage3_block1_norm1', 'bnlab>BatchNormalization', '[null,8,8,64]'],
      ['stage3_block1_act1', 'Activation', '[null,8,8,64]'],
      ['stage3_block1_conv2', 'Conv2D', '[null,8,8,64]'],
      ['stage3_block1_norm2', 'bnlab>BatchNormalization', '[null,8,8,64]'],
      ['stage3_block1_shortcut', 'bnlab>ZeroPadShortcut', '[null,8,8,64]'],
      ['stage3_block1_add', 'Add', '[null,8,8,64]'],
      ['stage3_block1_out', 'Activation', '[null,8,8,64]'],
      ['pool', 'GlobalAveragePooling2D', '[null,64]'],
      ['classifier', 'Dense', '[null,10]'],
    ]);
    // The identity shortcut is the block's input, unnormalized; A's reads the previous block's output.
    expect(inbound(m, 'stage1_block1_add')).toEqual(['stage1_block1_norm2', 'stem_act']);
    expect(inbound(m, 'stage2_block1_shortcut')).toEqual(['stage1_block1_out']);
    expect(inbound(m, 'stage2_block1_conv1_pad')).toEqual(['stage1_block1_out']);
    expect(m.getLayer('stage2_block1_conv1_pad').getConfig()).toMatchObject({
      padding: [
        [1, 1],
        [1, 1],
      ],
    });
    expect(m.getLayer('stage2_block1_conv1').getConfig()).toMatchObject({ strides: [2, 2], padding: 'valid', useBias: false });
    expect(m.getLayer('stage1_block1_conv1').getConfig()).toMatchObject({ strides: [1, 1], padding: 'same', useBias: false });
    expect(m.getLayer('stage2_block1_shortcut').getConfig()).toMatchObject({ strides: 2, channels: 32 });
    expect(m.getLayer('classifier').getConfig()).toMatchObject({ activation: 'softmax', units: 10 });
  });

  test('shortcut B: a 1×1 stride-2 projection with its own norm; every other shortcut is the identity', () => {
    const m = resnet({ norm: { type: 'batch' }, options: { depth: 14, shortcut: 'B' } });
    expect(names(m).filter((n) => n.includes('proj'))).toEqual([
      'stage2_block1_proj_conv',
      'stage2_block1_proj_norm',
      'stage3_block1_proj_conv',
      'stage3_block1_proj_norm',
    ]);
    expect(m.getLayer('stage2_block1_proj_conv').getConfig()).toMatchObject({
      kernelSize: [1, 1],
      strides: [2, 2],
      padding: 'valid',
      filters: 32,
      useBias: false,
    });
    expect(inbound(m, 'stage2_block1_proj_conv')).toEqual(['stage1_block2_out']);
    expect(inbound(m, 'stage2_block1_add')).toEqual(['stage2_block1_norm2', 'stage2_block1_proj_norm']);
    expect(inbound(m, 'stage2_block2_add')).toEqual(['stage2_block2_norm2', 'stage2_block1_out']);
  });

  test('pre-activation blocks: norm → act → conv twice, add; a final norm and act; a stage’s first block shares its pre-activation', () => {
    const m = resnet({ norm: { type: 'batch' }, options: { depth: 14, preActivation: true, shortcut: 'B' } });
    const stage2 = names(m).filter((n) => n.startsWith('stage2_block1'));
    expect(stage2).toEqual([
      'stage2_block1_norm1',
      'stage2_block1_act1',
      'stage2_block1_conv1_pad',
      'stage2_block1_conv1',
      'stage2_block1_norm2',
      'stage2_block1_act2',
      'stage2_block1_conv2',
      'stage2_block1_proj_conv',
      'stage2_block1_add',
    ]);
    expect(names(m).slice(0, 2)).toEqual(['input', 'stem_conv']); // no norm after the stem: block 1's norm1 is it
    expect(names(m).slice(-4)).toEqual(['final_norm', 'final_act', 'pool', 'classifier']);
    expect(inbound(m, 'stage1_block1_norm1')).toEqual(['stem_conv']);
    // First blocks: the shortcut reads the shared pre-activation; later blocks: the raw sum.
    expect(inbound(m, 'stage1_block1_add')).toEqual(['stage1_block1_conv2', 'stage1_block1_act1']);
    expect(inbound(m, 'stage2_block1_proj_conv')).toEqual(['stage2_block1_act1']);
    expect(inbound(m, 'stage2_block2_add')).toEqual(['stage2_block2_conv2', 'stage2_block1_add']);
    expect(inbound(m, 'final_norm')).toEqual(['stage3_block2_add']);
    // Every branch output reaches the network only through a batch norm: no conv has a bias.
    for (const l of m.layers) if (l.getClassName() === 'Conv2D') expect([l.name, l.getConfig().useBias]).toEqual([l.name, false]);
    const a = resnet({ norm: { type: 'batch' }, options: { depth: 8, preActivation: true } });
    expect(inbound(a, 'stage2_block1_shortcut')).toEqual(['stage2_block1_act1']);
  });

  test('biases: kept without a norm, with layer norm across channels, and with keepBias', () => {
    const convBiases = (spec: BuilderSpec<ResNetOptions>) =>
      resnet({ ...spec, options: { depth: 8, ...spec.options } })
        .layers.filter((l) => l.getClassName() === 'Conv2D')
        .map((l) => l.getConfig().useBias);
    expect(new Set(convBiases({ norm: { type: 'none' } }))).toEqual(new Set([true]));
    expect(new Set(convBiases({ norm: { type: 'layer' } }))).toEqual(new Set([true]));
    expect(new Set(convBiases({ norm: { type: 'instance' } }))).toEqual(new Set([false]));
    expect(new Set(convBiases({ norm: { type: 'group', groups: 4 } }))).toEqual(new Set([true])); // 4–16 channels per group
    expect(new Set(convBiases({ norm: { type: 'batch' }, options: { keepBias: true } }))).toEqual(new Set([true]));
  });

  test('zeroInitLastNorm sets gamma of each block’s last norm to 0 and nothing else', () => {
    const m = resnet({ norm: { type: 'batch' }, options: { depth: 8, shortcut: 'B', zeroInitLastNorm: true } });
    const gamma = (layer: string) => Array.from(m.getLayer(layer).getWeights()[0]!.dataSync());
    for (const s of [1, 2, 3]) {
      expect(new Set(gamma(`stage${s}_block1_norm2`))).toEqual(new Set([0]));
      expect(new Set(gamma(`stage${s}_block1_norm1`))).toEqual(new Set([1]));
    }
    expect(new Set(gamma('stage2_block1_proj_norm'))).toEqual(new Set([1]));
    expect(new Set(gamma('stem_norm'))).toEqual(new Set([1]));
    const pre = resnet({ norm: { type: 'group', groups: 8 }, options: { depth: 8, preActivation: true, zeroInitLastNorm: true } });
    expect(new Set(Array.from(pre.getLayer('stage3_block1_norm2').getWeights()[0]!.dataSync()))).toEqual(new Set([0]));
    expect(new Set(Array.from(pre.getLayer('final_norm').getWeights()[0]!.dataSync()))).toEqual(new Set([1]));
  });

  test('kernels default to He normal (scale 2, fan in); fromSpec builds what resnet builds', () => {
    const m = resnet({ norm: { type: 'batch' }, options: { depth: 8, seed: 3 } });
    expect(m.getLayer('stage1_block1_conv1').getConfig().kernelInitializer).toMatchObject({
      className: 'VarianceScaling',
      config: { scale: 2, mode: 'fanIn', distribution: 'normal' },
    });
    const spec: ModelSpec = {
      architecture: 'resnet',
      inputShape: [32, 32, 3],
      numClasses: 10,
      norm: { type: 'batch' },
      options: { depth: 8, seed: 3 },
    };
    const f = fromSpec(spec);
    expect(names(f)).toEqual(names(m));
    const wa = m.getWeights();
    const wb = f.getWeights();
    expect(wb.length).toBe(wa.length);
    wa.forEach((w, i) => expect(Buffer.from(w.dataSync().buffer).equals(Buffer.from(wb[i]!.dataSync().buffer))).toBe(true));
    expect(validateModelSpec(spec)).toEqual(spec);
  });

  test('other input shapes: 28×28×1 (MNIST) and odd sides', () => {
    const m = resnet({ inputShape: [28, 28, 1], numClasses: 4, options: { depth: 8 } });
    expect(m.getLayer('stage3_block1_out').outputShape).toEqual([null, 7, 7, 64]);
    const odd = resnet({ inputShape: [9, 9, 3], norm: { type: 'batch' }, options: { depth: 8 } });
    // ceil(9 / 2) = 5, ceil(5 / 2) = 3, in the branch (padded 3×3 stride 2) and the shortcut alike.
    expect(odd.getLayer('stage2_block1_shortcut').outputShape).toEqual([null, 5, 5, 32]);
    expect(odd.getLayer('stage3_block1_add').outputShape).toEqual([null, 3, 3, 64]);
  });
});

describe('bad specs are INVALID_CONFIG naming the field', () => {
  const base = (spec: Partial<ModelSpec>): ModelSpec => ({ architecture: 'resnet', inputShape: [32, 32, 3], numClasses: 10, ...spec });
  test.each([
    [
      'depth 21',
      base({ options: { depth: 21 } }),
      'resnet: `options.depth` (21) must be 6n+2 for an integer n ≥ 1 (8, 14, 20, 32, 44, 56, 110, …)',
      'options.depth',
    ],
    ["depth 'x'", base({ options: { depth: 'x' } }), "resnet: `options.depth` ('x') must be 6n+2", 'options.depth'],
    ['depth 2 (n = 0)', base({ options: { depth: 2 } }), 'resnet: `options.depth` (2) must be 6n+2 for an integer n ≥ 1', 'options.depth'],
    [
      "shortcut 'C'",
      base({ options: { shortcut: 'C' } }),
      "resnet: `options.shortcut` ('C') must be 'A' (zero-padded identity) or 'B' (1×1 projection)",
      'options.shortcut',
    ],
    [
      'preActivation with an after-activation placement',
      base({ norm: { type: 'batch' }, placement: { position: 'after-activation' }, options: { preActivation: true } }),
      "resnet: `placement.position` ('after-activation') cannot be used with `options.preActivation` (true): a " +
        'pre-activation block puts each norm before its activation (norm → relu → conv)',
      'placement.position',
    ],
    [
      'classic blocks with an after-activation placement',
      base({ norm: { type: 'layer' }, placement: { position: 'after-activation' } }),
      "resnet: `placement.position` ('after-activation') must be 'before-activation': a classic block's second norm",
      'placement.position',
    ],
    [
      'a list of blocks to normalize',
      base({ norm: { type: 'batch' }, placement: { layers: [1, 2] } }),
      "resnet: `placement.layers` ([1,2]) must be 'all': a ResNet normalizes every convolution's output or none",
      'placement.layers',
    ],
    [
      'widths that decrease with shortcut A',
      base({ options: { widths: [32, 16, 64] } }),
      "resnet: `options.widths` ([32,16,64]) must not decrease with `options.shortcut` 'A': stage 2 has 16 channels after 32",
      'options.widths',
    ],
    [
      'two widths',
      base({ options: { widths: [16, 32] } }),
      'resnet: `options.widths` ([16,32]) must be a list of 3 positive integers',
      'options.widths',
    ],
    [
      'the default 32 groups and a 16-channel stage',
      base({ norm: { type: 'group' } }),
      'resnet: `norm.groups` (32, the default) must divide the number of channels of every normalized block, but stage 1 ' +
        '(`options.widths[0]`) has 16',
      'norm.groups',
    ],
    [
      'a norm axis beyond rank 4',
      base({ norm: { type: 'batch', axis: 4 } }),
      'resnet: `norm.axis` (4) must be in [-4, 3] for stage 1 (`options.widths[0]`), whose output has rank 4',
      'norm.axis',
    ],
    [
      'zeroInitLastNorm without a norm',
      base({ options: { zeroInitLastNorm: true } }),
      "resnet: `options.zeroInitLastNorm` (true) has no effect with `norm` {type: 'none'}",
      'options.zeroInitLastNorm',
    ],
    [
      'zeroInitLastNorm without gamma',
      base({ norm: { type: 'batch', scale: false }, options: { zeroInitLastNorm: true } }),
      'resnet: `options.zeroInitLastNorm` (true) needs a normalization with a gamma, but `norm.scale` is false',
      'options.zeroInitLastNorm',
    ],
    [
      'a misspelt option',
      base({ options: { preactivation: true } }),
      'resnet: unknown field `preactivation` in `options`',
      'options.preactivation',
    ],
  ])('%s', (_, spec, message, where) => {
    const { architecture: _a, ...builderSpec } = spec;
    for (const check of [() => fromSpec(spec), () => validateModelSpec(spec), () => resnet(builderSpec as never)]) {
      const e = errorOf(check);
      expect(e.code).toBe('INVALID_CONFIG');
      expect(e.message).toContain(message);
      expect(e.where).toBe(where);
    }
  });

  test('a flat input is INVALID_SHAPE naming inputShape; norm none ignores the placement, as every builder', () => {
    const e = errorOf(() => resnet({ inputShape: [784] }));
    expect(e.code).toBe('INVALID_SHAPE');
    expect(e.message).toContain('resnet: `inputShape` ([784]) must be [height, width, channels]');
    expect(e.where).toBe('inputShape');
    expect(() => resnet({ placement: { layers: [1] }, options: { depth: 8 } })).not.toThrow();
  });

  test('a group norm over a spatial axis the stage cannot split names the block and the field', () => {
    // Axis 1 is the height, 32 in stage 1: 3 groups do not divide it (only the layer can see that).
    const e = errorOf(() => resnet({ norm: { type: 'group', groups: 3, axis: 1 }, options: { depth: 8 } }));
    expect(e.message).toContain(
      'resnet: the stem normalization: GroupNormalization: `groups` (3) must divide the number of channels (32) on axis 1',
    );
    expect(e.where).toBe('norm.groups');
  });
});

/** 16 random 16×16×3 images with random labels of 4 classes: learnable only by memorizing. */
function randomBatch(seed: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const rng = new Rng(seed);
  const n = 16;
  const pixels = Float32Array.from({ length: n * 16 * 16 * 3 }, () => rng.normal(0, 1));
  const labels = Int32Array.from({ length: n }, () => rng.int(4));
  return { xs: tf.tensor4d(pixels, [n, 16, 16, 3]), ys: tf.oneHot(tf.tensor1d(labels, 'int32'), 4) as tf.Tensor2D };
}

describe('training on wasm', () => {
  test('the wasm backend is the one in use', () => {
    expect(activeBackend()).toBe('wasm');
  });

  // Without normalization the usual Adam step of 1e-3; batch norm takes 1e-2.
  const NORMS: [string, NormalizationSpec, Partial<ResNetOptions>, number][] = [
    ['batch norm', { type: 'batch' }, {}, 0.01],
    ['no norm', { type: 'none' }, {}, 0.001],
    [
      'batch norm, pre-activation, shortcut B, zero-init',
      { type: 'batch' },
      { preActivation: true, shortcut: 'B', zeroInitLastNorm: true },
      0.01,
    ],
  ];
  test.each(NORMS)('ResNet-8 with %s: the loss on a fixed batch falls', async (_, norm, options, lr) => {
    const model = resnet({ inputShape: [16, 16, 3], numClasses: 4, norm, options: { depth: 8, seed: 5, ...options } });
    const { xs, ys } = randomBatch(9);
    model.compile({ optimizer: tf.train.adam(lr), loss: 'categoricalCrossentropy' });
    const losses: number[] = [];
    for (let i = 0; i < 10; i++) losses.push((await model.trainOnBatch(xs, ys)) as number);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(0.7 * losses[0]!);
  });
});

describe('save and load', () => {
  /** Random values for every weight (moving variances kept positive), so a lost or swapped weight shows. */
  function randomizeWeights(model: LayersModel, seed: number): void {
    const rng = new Rng(seed);
    for (const layer of model.layers) {
      layer.setWeights(
        layer.weights.map((w) => {
          const n = w.shape.reduce((p: number, d) => p * (d ?? 1), 1);
          return tf.tensor(
            Float32Array.from({ length: n }, () => (w.trainable ? rng.normal(0, 0.3) : 0.5 + rng.uniform())),
            w.shape as number[],
          );
        }),
      );
    }
  }

  test.each([
    ['batch norm, shortcut A', { norm: { type: 'batch' } }],
    ['group norm, pre-activation, shortcut B', { norm: { type: 'group', groups: 8 }, options: { preActivation: true, shortcut: 'B' } }],
    ['no norm', { norm: { type: 'none' } }],
  ] as [string, BuilderSpec<ResNetOptions>][])('%s round-trips through saveModel / loadModel', async (_, spec) => {
    const model = resnet({ inputShape: [12, 12, 3], numClasses: 3, ...spec, options: { depth: 8, ...spec.options } });
    randomizeWeights(model, 4);
    const dir = join(root, spec.norm!.type + String(spec.options?.shortcut ?? 'A'));
    await saveModel(model, dir);
    const loaded = await loadModel(dir);
    expect(names(loaded)).toEqual(names(model));
    expect(loaded.layers.some((l) => l instanceof ZeroPadShortcut)).toBe(spec.options?.shortcut !== 'B');
    const xs = tf.randomNormal([2, 12, 12, 3], 0, 1, 'float32', 6);
    const a = (model.predict(xs) as tf.Tensor).dataSync();
    const b = (loaded.predict(xs) as tf.Tensor).dataSync();
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    expect(summary(loaded).trainableParams).toBe(summary(model).trainableParams);
  });
});
