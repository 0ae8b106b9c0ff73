import { initBackend } from '@bnlab/core';
import type { ModelSpec } from '@bnlab/core';
import { convNet4, fromSpec, kerasCnn, mlp, simpleCnn, validateModelSpec } from '../../src/index.js';
import { errorOf } from '../support/error_of';

beforeAll(async () => {
  await initBackend();
});

describe('spec validation', () => {
  test.each([
    [
      'a hidden size that is not a positive integer',
      () => mlp({ options: { hiddenUnits: [128, 0] } }),
      'mlp: `options.hiddenUnits[1]` (0) must be a positive integer',
      'options.hiddenUnits[1]',
    ],
    [
      'an empty hidden list',
      () => mlp({ options: { hiddenUnits: [] } }),
      'mlp: `options.hiddenUnits` ([]) must be a non-empty list of positive integers',
      'options.hiddenUnits',
    ],
    [
      'the wrong number of filters',
      () => kerasCnn({ options: { filters: [32, 64] } }),
      'kerasCnn: `options.filters` ([32,64]) must be a list of 3 positive integers',
      'options.filters',
    ],
    [
      'a misspelt option',
      () => simpleCnn({ options: { denseUnit: 64 } as never }),
      'simpleCnn: unknown field `denseUnit` in `options`; the known fields are',
      'options.denseUnit',
    ],
    [
      'an unknown top-level field',
      () => kerasCnn({ normalization: { type: 'batch' } } as never),
      'kerasCnn: unknown field `normalization`; the known fields are `inputShape`, `numClasses`, `norm`, `placement`, `options`',
      'normalization',
    ],
    ['one class', () => kerasCnn({ numClasses: 1 }), 'kerasCnn: `numClasses` (1) must be an integer >= 2', 'numClasses'],
    [
      'an unknown position',
      () => kerasCnn({ placement: { position: 'after' as never } }),
      "kerasCnn: `placement.position` ('after') must be 'before-activation' or 'after-activation'",
      'placement.position',
    ],
    [
      'an unknown activation',
      () => kerasCnn({ options: { activation: 'leaky' as never } }),
      "kerasCnn: `options.activation` ('leaky') must be one of 'relu'",
      'options.activation',
    ],
    [
      'a badly formed initializer',
      () => kerasCnn({ options: { kernelInitializer: { name: 'randomNormal' } as never } }),
      'kerasCnn: `options.kernelInitializer` ({"name":"randomNormal"}) must be one of \'glorotUniform\'',
      'options.kernelInitializer',
    ],
    [
      'a non-positive initializer scale',
      () => kerasCnn({ options: { kernelInitializerScale: 0 } }),
      'kerasCnn: `options.kernelInitializerScale` (0) must be a finite number > 0',
      'options.kernelInitializerScale',
    ],
    [
      'an unknown convNet4 layout',
      () => convNet4({ options: { layout: 'paper' as never } }),
      "convNet4: `options.layout` ('paper') must be 'seed' or 'uniform'",
      'options.layout',
    ],
  ])('%s', (_, build, message, where) => {
    const e = errorOf(build);
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).toContain(message);
    expect(e.where).toBe(where);
  });

  test('an invalid normalization spec is reported by @bnlab/layers, under `norm`', () => {
    const e = errorOf(() => kerasCnn({ norm: { type: 'group', groups: 2.5 } }));
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).toContain('kerasCnn: `norm` is invalid');
    expect(e.message).toContain('`groups` (2.5)');
    expect(e.where).toBe('norm.groups');
    const t = errorOf(() => kerasCnn({ norm: { type: 'weight' } as never }));
    expect(t.message).toContain("`type` ('weight') must be one of 'batch', 'layer', 'group', 'instance', 'none'");
  });

  test('fromSpec checks the architecture and the custom blocks', () => {
    const arch = errorOf(() => fromSpec({ architecture: 'densenet', inputShape: [28, 28, 1], numClasses: 10 } as never));
    expect(arch.message).toBe(
      "model spec: `architecture` ('densenet') must be 'mlp', 'simpleCnn', 'kerasCnn', 'convNet4', 'resnet', 'vgg' or 'custom'",
    );
    const missing = errorOf(() => fromSpec({ architecture: 'kerasCnn', numClasses: 10 } as never));
    expect(missing.message).toContain('model spec: `inputShape` (undefined) must be a non-empty list of positive integers');
    const noBlocks = errorOf(() => fromSpec({ architecture: 'custom', inputShape: [4], numClasses: 2 }));
    expect(noBlocks.message).toContain('custom: `options.blocks` (undefined) must be a non-empty list of blocks');
    const block = errorOf(() =>
      fromSpec({ architecture: 'custom', inputShape: [8, 8, 1], numClasses: 2, options: { blocks: [{ type: 'conv' }] } }),
    );
    expect(block.message).toContain('custom: `options.blocks[0].filters` (undefined) must be a positive integer');
    const kind = errorOf(() =>
      fromSpec({ architecture: 'custom', inputShape: [8, 8, 1], numClasses: 2, options: { blocks: [{ type: 'lstm' }] } }),
    );
    expect(kind.message).toBe(
      "custom: `options.blocks[0].type` ('lstm') must be 'conv', 'dense', 'maxPool', 'avgPool', 'dropout' or 'flatten'",
    );
    const rate = errorOf(() =>
      fromSpec({
        architecture: 'custom',
        inputShape: [4],
        numClasses: 2,
        options: { blocks: [{ type: 'dropout', rate: 1 }] },
      }),
    );
    expect(rate.message).toContain('`options.blocks[0].rate` (1) must be a number in [0, 1)');
  });

  test('validateModelSpec checks a spec without building it, placement included, and returns a copy', () => {
    const spec: ModelSpec = {
      architecture: 'convNet4',
      inputShape: [32, 32, 3],
      numClasses: 10,
      norm: { type: 'batch', momentum: 0.9 },
      placement: { layers: [1], position: 'after-activation' },
    };
    const checked = validateModelSpec(spec);
    expect(checked).toEqual(spec);
    expect(checked).not.toBe(spec);
    const e = errorOf(() => validateModelSpec({ ...spec, placement: { layers: [6] } }));
    expect(e.message).toContain('convNet4: `placement.layers` ([6]) must list block numbers from 1 to 5');
    // A spec survives JSON unchanged: builders take plain data.
    expect(JSON.parse(JSON.stringify(checked))).toEqual(spec);
  });

  test("the caller's spec is never modified", () => {
    const spec = {
      inputShape: [28, 28, 1],
      norm: { type: 'batch' as const },
      placement: { layers: [1, 2] },
      options: { filters: [8, 8, 8] },
    };
    const before = JSON.stringify(spec);
    kerasCnn(spec);
    expect(JSON.stringify(spec)).toBe(before);
  });
});
