import * as tfl from '@tensorflow/tfjs-layers';
import {
  BatchNormalization,
  GroupNormalization,
  InstanceNormalization,
  LayerNormalization,
  normalization,
  validateNormalizationSpec,
} from '../src/index.js';
import type { NormalizationSpec } from '../src/index.js';
import { useBackend } from './support/backends.js';
import { expectBnlabError } from './support/errors.js';

describe('normalization(spec)', () => {
  beforeAll(() => useBackend('cpu'));

  test('builds the layer of each type with the spec options, and null for none', () => {
    const bn = normalization({ type: 'batch', momentum: 0.9, virtualBatchSize: 8 });
    expect(bn).toBeInstanceOf(BatchNormalization);
    expect(bn.getConfig()).toMatchObject({ momentum: 0.9, virtualBatchSize: 8, epsilon: 1e-3 });
    expect(normalization({ type: 'layer', axis: [1, 2, 3] })).toBeInstanceOf(LayerNormalization);
    const gn = normalization({ type: 'group', groups: 4, center: false });
    expect(gn).toBeInstanceOf(GroupNormalization);
    expect(gn.getConfig()).toMatchObject({ groups: 4, center: false, scale: true, axis: -1 });
    expect(normalization({ type: 'instance', epsilon: 1e-5 })).toBeInstanceOf(InstanceNormalization);
    expect(normalization({ type: 'none' })).toBeNull();
  });

  test('passes layer arguments on; the spec wins over a same-named argument', () => {
    const layer = normalization({ type: 'group', groups: 2, epsilon: 1e-4 }, {
      name: 'gn_block1',
      gammaRegularizer: tfl.regularizers.l2({ l2: 0.01 }),
      epsilon: 5,
    } as never);
    expect(layer.name).toBe('gn_block1');
    expect(layer.getConfig()['epsilon']).toBe(1e-4);
    layer.build([null, 4]);
    expect(layer.losses.length).toBe(1); // the gamma regularizer
  });

  test('groups that do not divide the channels fail when the layer meets its input', () => {
    const model = tfl.sequential();
    model.add(tfl.layers.dense({ inputShape: [3], units: 6 }));
    expectBnlabError(
      () => model.add(normalization({ type: 'group', groups: 4 })),
      'INVALID_CONFIG',
      '`groups` (4) must divide the number of channels (6)',
    );
  });
});

describe('validateNormalizationSpec', () => {
  test('returns a copy of a valid spec, unchanged and without defaults', () => {
    const specs: NormalizationSpec[] = [
      { type: 'none' },
      { type: 'batch' },
      { type: 'batch', axis: 1, momentum: 0, epsilon: 1e-5, center: false, scale: false, virtualBatchSize: 16 },
      { type: 'batch', renorm: true, renormClipping: { rmax: 3, dmax: 5 }, renormMomentum: 0.9 },
      { type: 'layer', axis: [1, 2, 3] },
      { type: 'group', groups: -1, axis: -1 },
      { type: 'instance', scale: false },
    ];
    for (const spec of specs) {
      const text = JSON.stringify(spec);
      const valid = validateNormalizationSpec(JSON.parse(text));
      expect(valid).toEqual(spec);
      expect(JSON.stringify(valid)).toBe(text);
    }
  });

  test.each([
    [null, "normalization spec must be an object such as {type: 'batch'}, got null"],
    [[], "normalization spec must be an object such as {type: 'batch'}, got []"],
    ['batch', "normalization spec must be an object such as {type: 'batch'}, got 'batch'"],
    [{}, "normalization spec: `type` (undefined) must be one of 'batch', 'layer', 'group', 'instance', 'none'"],
    [{ type: 'batchnorm' }, "`type` ('batchnorm') must be one of 'batch', 'layer', 'group', 'instance', 'none'"],
    [{ type: 'none', groups: 2 }, "normalization spec {type: 'none'}: unknown option `groups`; 'none' takes no options"],
    [{ type: 'batch', groups: 2 }, "normalization spec {type: 'batch'}: unknown option `groups`; the options are `axis`, `momentum`"],
    [{ type: 'layer', momentum: 0.9 }, "{type: 'layer'}: unknown option `momentum`; the options are `axis`, `epsilon`, `center`, `scale`"],
    [{ type: 'batch', momentum: 2 }, "normalization spec {type: 'batch'}: `momentum` (2) must be a number in [0, 1]"],
    [{ type: 'batch', momentum: '0.9' }, "`momentum` ('0.9') must be a number in [0, 1]"],
    [{ type: 'batch', epsilon: -1 }, '`epsilon` (-1) must be a finite number > 0'],
    [{ type: 'batch', axis: 0 }, '`axis` (0) must be an integer other than 0 (axis 0 is the batch axis)'],
    [{ type: 'batch', center: 'yes' }, "`center` ('yes') must be true or false"],
    [{ type: 'batch', virtualBatchSize: 1.5 }, '`virtualBatchSize` (1.5) must be a positive integer'],
    [{ type: 'batch', renorm: true, renormClipping: { rmax: 0.5 } }, '`renormClipping.rmax` (0.5) must be a finite number >= 1'],
    [{ type: 'batch', renorm: true, renormClipping: { dmax: -1 } }, '`renormClipping.dmax` (-1) must be a finite number >= 0'],
    [{ type: 'batch', renorm: true, renormClipping: { rmin: 0.5 } }, '`renormClipping` ({"rmin":0.5}) must be an object {rmax?, dmax?}'],
    [{ type: 'batch', renormMomentum: 0.9 }, '`renormMomentum` is only used with `renorm: true`'],
    [{ type: 'batch', renorm: true, virtualBatchSize: 8 }, '`virtualBatchSize` (8) cannot be combined with `renorm: true`'],
    [{ type: 'layer', axis: [1, 1] }, '`axis` ([1,1]) must be an integer or a non-empty list of distinct integers, none of them 0'],
    [{ type: 'layer', axis: [] }, '`axis` ([]) must be an integer or a non-empty list'],
    [
      { type: 'group', groups: 0 },
      "normalization spec {type: 'group'}: `groups` (0) must be a positive integer or -1 (one group per channel)",
    ],
    [{ type: 'group', groups: null }, '`groups` (null) must be a positive integer or -1'],
    [{ type: 'instance', epsilon: Infinity }, '`epsilon` (Infinity) must be a finite number > 0'],
  ])('rejects %j', (spec, message) => {
    expectBnlabError(() => validateNormalizationSpec(spec), 'INVALID_CONFIG', message);
    expectBnlabError(() => normalization(spec as NormalizationSpec), 'INVALID_CONFIG', message);
  });

  test('the error says where: the field name', () => {
    try {
      validateNormalizationSpec({ type: 'group', groups: 2.5 });
    } catch (e) {
      expect((e as { where?: string }).where).toBe('groups');
    }
    expect.assertions(1);
  });
});
