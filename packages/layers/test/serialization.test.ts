import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BatchNormalization, GroupNormalization, InstanceNormalization, LayerNormalization, NORMALIZATION_DEFAULTS } from '../src/index.js';
import { useBackend } from './support/backends.js';

type Ctor = new (args: Record<string, unknown>) => tfl.layers.Layer;

// Every option of each layer set to a non-default value, as a user would pass them.
const PASSED: [string, Ctor, Record<string, unknown>, keyof typeof NORMALIZATION_DEFAULTS][] = [
  [
    'BatchNormalization',
    BatchNormalization as unknown as Ctor,
    { axis: -1, momentum: 0.9, epsilon: 1e-5, center: false, scale: true, virtualBatchSize: 4 },
    'batch',
  ],
  [
    'BatchNormalization (renorm)',
    BatchNormalization as unknown as Ctor,
    { axis: 1, renorm: true, renormClipping: { rmax: 3, dmax: 5 }, renormMomentum: 0.9 },
    'batch',
  ],
  ['LayerNormalization', LayerNormalization as unknown as Ctor, { axis: [3, 1, -2], epsilon: 1e-6, center: false }, 'layer'],
  ['GroupNormalization', GroupNormalization as unknown as Ctor, { groups: -1, axis: -1, epsilon: 1e-4, scale: false }, 'group'],
  ['InstanceNormalization', InstanceNormalization as unknown as Ctor, { axis: 3, epsilon: 1e-4 }, 'instance'],
];

describe('getConfig', () => {
  beforeAll(() => useBackend('cpu'));

  test.each(PASSED)('%s returns exactly what was passed, defaults for the rest', (_name, Cls, passed, family) => {
    const args = JSON.parse(JSON.stringify(passed)) as Record<string, unknown>;
    const layer = new Cls({ ...args, name: 'norm' });
    // Changing the caller's objects afterwards must not reach the layer.
    if (Array.isArray(args['axis'])) (args['axis'] as number[]).push(9);
    if (args['renormClipping']) (args['renormClipping'] as Record<string, number>)['rmax'] = 100;
    layer.build([null, 4, 6, 4]);
    layer.apply(tf.ones([2, 4, 6, 4]), { training: true });
    const config = layer.getConfig();
    for (const [key, value] of Object.entries(passed)) expect(config[key]).toEqual(value);
    for (const [key, value] of Object.entries(NORMALIZATION_DEFAULTS[family])) {
      if (!(key in passed) && !['renorm', 'renormMomentum'].includes(key)) expect(config[key]).toEqual(value);
    }
    expect(config['name']).toBe('norm');
    // A config rebuilds an identical layer.
    expect(new Cls(config).getConfig()).toEqual(config);
  });

  test('batch-norm options beyond Keras appear only when passed, so a plain config is the Keras one', () => {
    const config = new BatchNormalization().getConfig();
    for (const key of ['virtualBatchSize', 'renorm', 'renormClipping', 'renormMomentum']) expect(key in config).toBe(false);
    expect(config).toMatchObject({
      axis: -1,
      momentum: 0.99,
      epsilon: 1e-3,
      center: true,
      scale: true,
      gammaInitializer: { className: 'Ones', config: {} },
      betaInitializer: { className: 'Zeros', config: {} },
      movingMeanInitializer: { className: 'Zeros', config: {} },
      movingVarianceInitializer: { className: 'Ones', config: {} },
      gammaRegularizer: null,
      betaConstraint: null,
    });
  });
});

describe('registration', () => {
  test('the classes are registered as bnlab>Name, the key tfjs-layers 4.22 saves and looks up', () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const cls of [BatchNormalization, LayerNormalization, GroupNormalization, InstanceNormalization]) {
      const key = `bnlab>${cls.name}`;
      expect(cls.className).toBe(key);
      expect(map[key]![0]).toBe(cls);
      expect(tf.serialization.getRegisteredName(cls as never)).toBe(key);
    }
  });

  test("tfjs's own BatchNormalization and LayerNormalization stay registered under their names", () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    expect(map['BatchNormalization']![0]).toBe(tfl.layers.batchNormalization().constructor);
    expect(map['LayerNormalization']![0]).toBe(tfl.layers.layerNormalization().constructor);
  });
});

function buildModel(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 4, kernelSize: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }),
  );
  model.add(new BatchNormalization({ momentum: 0.8, renorm: true, renormClipping: { rmax: 2, dmax: 1 }, renormMomentum: 0.9 }));
  model.add(new GroupNormalization({ groups: 2, epsilon: 1e-4 }));
  model.add(new InstanceNormalization({ center: false }));
  model.add(new LayerNormalization({ axis: [1, 2, 3] }));
  model.add(new BatchNormalization({ virtualBatchSize: 2, scale: false }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) }));
  model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
  return model;
}

describe('save and load a model that uses all four layers (wasm)', () => {
  beforeAll(() => useBackend('wasm'));

  test('predictions, weights and configs survive model.save / tf.loadLayersModel', async () => {
    const model = buildModel();
    const x = tf.randomNormal([8, 6, 6, 2], 0.5, 2, 'float32', 21);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
    await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 }); // moving and renorm statistics move
    const expected = (model.predict(x) as tf.Tensor).dataSync();

    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    // Through JSON text, as a file would carry it.
    const topology = JSON.parse(JSON.stringify(saved!.modelTopology)) as { config: { layers: { class_name: string }[] } };
    expect(topology.config.layers.map((l) => l.class_name)).toEqual([
      'Conv2D',
      'bnlab>BatchNormalization',
      'bnlab>GroupNormalization',
      'bnlab>InstanceNormalization',
      'bnlab>LayerNormalization',
      'bnlab>BatchNormalization',
      'Flatten',
      'Dense',
    ]);
    const loaded = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: topology,
        weightSpecs: saved!.weightSpecs,
        weightData: saved!.weightData,
      }),
    );

    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from(expected));
    expect(loaded.getWeights().length).toBe(model.getWeights().length);
    loaded.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(model.getWeights()[i]!.dataSync())));
    loaded.layers.forEach((layer, i) => {
      const { name: _a, ...original } = model.layers[i]!.getConfig();
      const { name: _b, ...restored } = layer.getConfig();
      expect(restored).toEqual(original);
    });
    // The restored layers keep training (renorm statistics and ghost batches included).
    loaded.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
    const history = await loaded.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
    expect(Number.isFinite(history.history['loss']![0] as number)).toBe(true);
  });

  test('model.toJSON() plus the weights rebuilds the same model', async () => {
    const model = buildModel();
    const x = tf.randomNormal([4, 6, 6, 2], 0, 1, 'float32', 22);
    const json = model.toJSON(undefined, false);
    const rebuilt = await tfl.models.modelFromJSON(JSON.parse(JSON.stringify(json)) as never);
    rebuilt.setWeights(model.getWeights());
    expect(Array.from((rebuilt.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
  });
});

describe('a model saved by Keras with its own GroupNormalization', () => {
  beforeAll(() => useBackend('cpu'));

  test('loads (class name "GroupNormalization", snake_case config as Keras writes it) and computes group norm', async () => {
    // The layer entry of a Keras 2.11+ model.json (tensorflowjs_converter output), trimmed to
    // what matters: Keras's class name and config keys.
    const topology = {
      class_name: 'Sequential',
      config: {
        name: 'keras_model',
        layers: [
          { class_name: 'InputLayer', config: { batch_input_shape: [null, 2, 2, 4], dtype: 'float32', name: 'input_1' } },
          {
            class_name: 'GroupNormalization',
            config: {
              name: 'group_normalization',
              trainable: true,
              dtype: 'float32',
              groups: 2,
              axis: -1,
              epsilon: 0.001,
              center: true,
              scale: true,
              beta_initializer: { class_name: 'Zeros', config: {} },
              gamma_initializer: { class_name: 'Ones', config: {} },
              beta_regularizer: null,
              gamma_regularizer: null,
              beta_constraint: null,
              gamma_constraint: null,
            },
          },
        ],
      },
      keras_version: '2.15.0',
      backend: 'tensorflow',
    };
    const model = await tfl.models.modelFromJSON({ modelTopology: topology } as never);
    const layer = model.getLayer('group_normalization');
    expect(layer).toBeInstanceOf(GroupNormalization);
    expect(layer.getClassName()).toBe('GroupNormalization');
    expect(layer.weights.map((w) => w.name.split('/').pop())).toEqual(['gamma', 'beta']);
    // One image, two groups of two channels: [0, 2 | 4, 8] at every position except the last,
    // [2, 4 | 8, 12] there. Group 1 holds 0, 2 ×3 and 2, 4: mean 1.5, variance 14 / 8 = 1.75.
    const x = tf.tensor4d([0, 2, 4, 8, 0, 2, 4, 8, 0, 2, 4, 8, 2, 4, 8, 12], [1, 2, 2, 4]);
    const y = (model.predict(x) as tf.Tensor).dataSync();
    const r1 = 1 / Math.sqrt(1.75 + 1e-3);
    expect(y[0]).toBeCloseTo((0 - 1.5) * r1, 5);
    expect(y[13]).toBeCloseTo((4 - 1.5) * r1, 5);
    // Group 2 holds 4, 8 ×3 and 8, 12: mean 7, variance 56 / 8 = 7.
    expect(y[15]).toBeCloseTo((12 - 7) / Math.sqrt(7 + 1e-3), 5);
  });
});
