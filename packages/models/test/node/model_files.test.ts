import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { BnlabError, initBackend, Rng } from '@bnlab/core';
import type { ModelSpec, NormalizationSpec } from '@bnlab/core';
import { fromSpec, summary } from '../../src/index.js';
import { loadModel, nodeFileHandler, saveModel } from '../../src/node.js';

let root: string;
beforeAll(async () => {
  await initBackend();
  root = mkdtempSync(join(tmpdir(), 'bnlab-models-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirCount = 0;
const freshDir = () => join(root, `m${++dirCount}`);

/**
 * Gives every weight a random value, so that a round trip that lost or mixed up any weight
 * (batch norm's moving statistics included: kept positive, as a variance must be) changes the
 * predictions.
 */
function randomizeWeights(model: LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    const fresh = layer.weights.map((w) => {
      const n = w.shape.reduce((p: number, d) => p * (d ?? 1), 1);
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = w.trainable ? rng.normal(0, 0.3) : 0.5 + rng.uniform();
      return tf.tensor(values, w.shape as number[]);
    });
    layer.setWeights(fresh);
  }
}

function bitwiseEqual(a: tf.Tensor, b: tf.Tensor): boolean {
  return Buffer.from(a.dataSync().buffer).equals(Buffer.from(b.dataSync().buffer));
}

const NORMS: NormalizationSpec[] = [
  { type: 'none' },
  { type: 'batch' },
  { type: 'layer' },
  { type: 'group', groups: 8 },
  { type: 'instance' },
];

const ARCHITECTURES: { spec: Omit<ModelSpec, 'norm'>; position: 'before-activation' | 'after-activation' }[] = [
  { spec: { architecture: 'mlp', inputShape: [28, 28, 1], numClasses: 10 }, position: 'after-activation' },
  { spec: { architecture: 'simpleCnn', inputShape: [28, 28, 1], numClasses: 10 }, position: 'before-activation' },
  { spec: { architecture: 'kerasCnn', inputShape: [28, 28, 1], numClasses: 10 }, position: 'before-activation' },
  { spec: { architecture: 'convNet4', inputShape: [32, 32, 3], numClasses: 10 }, position: 'after-activation' },
  {
    spec: {
      architecture: 'custom',
      inputShape: [10, 10, 2],
      numClasses: 3,
      options: {
        blocks: [
          { type: 'conv', filters: 16, padding: 'same' },
          { type: 'maxPool' },
          { type: 'dropout', rate: 0.5 },
          { type: 'conv', filters: 16 },
          { type: 'avgPool' },
          { type: 'dense', units: 16 },
        ],
      },
    },
    position: 'before-activation',
  },
];

const CASES = ARCHITECTURES.flatMap(({ spec, position }) =>
  NORMS.map((norm) => [spec.architecture, norm.type, { ...spec, norm, placement: { position } } as ModelSpec] as const),
);

describe('saveModel / loadModel', () => {
  test.each(CASES)('%s × %s norm round-trips with identical predictions', async (architecture, normType, spec) => {
    if (architecture === 'mlp' && normType === 'instance') {
      // Instance normalization needs spatial axes; an MLP has none (see fromSpec).
      expect(() => fromSpec(spec)).toThrow(BnlabError);
      return;
    }
    const model = fromSpec(spec);
    randomizeWeights(model, 17);
    const x = tf.randomUniform([2, ...spec.inputShape], 0, 1, 'float32', 5);
    const before = model.predict(x) as tf.Tensor;
    const dir = freshDir();
    await saveModel(model, dir);
    const loaded = await loadModel(dir);

    expect(bitwiseEqual(loaded.predict(x) as tf.Tensor, before)).toBe(true);
    expect(loaded.layers.map((l) => [l.name, l.getClassName()])).toEqual(model.layers.map((l) => [l.name, l.getClassName()]));
    expect(summary(loaded)).toEqual(summary(model));
    const wa = model.getWeights();
    const wb = loaded.getWeights();
    expect(wb.length).toBe(wa.length);
    wa.forEach((w, i) => expect(bitwiseEqual(w, wb[i]!)).toBe(true));

    // On disk: tfjs's layers-model format, one float32 weights file of 4 bytes per parameter.
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^model\.json$/);
    expect(files[1]).toMatch(/^weights\.[0-9a-f]{16}\.bin$/);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest).toEqual([{ paths: [files[1]], weights: expect.any(Array) }]);
    expect(statSync(join(dir, files[1]!)).size).toBe(4 * summary(model).totalParams);
  });

  test('works as a plain tfjs IOHandler, and a trained batch-norm model keeps its moving statistics', async () => {
    const model = fromSpec({
      architecture: 'mlp',
      inputShape: [6],
      numClasses: 2,
      norm: { type: 'batch', momentum: 0.5 },
      options: { hiddenUnits: [8], seed: 1 },
    });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const xs = tf.randomNormal([16, 6], 3, 2, 'float32', 2);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1], 'int32'), 2);
    await model.fit(xs, ys, { epochs: 2, batchSize: 8, verbose: 0 });
    const movingMean = model.getLayer('block1_norm').getWeights()[2]!;
    expect(tf.max(tf.abs(movingMean)).dataSync()[0]).toBeGreaterThan(0.1); // moved away from 0
    const dir = freshDir();
    await model.save(nodeFileHandler(dir));
    const loaded = await tfl.loadLayersModel(nodeFileHandler(dir));
    expect(bitwiseEqual(loaded.predict(xs) as tf.Tensor, model.predict(xs) as tf.Tensor)).toBe(true);
    expect(bitwiseEqual(loaded.getLayer('block1_norm').getWeights()[2]!, movingMean)).toBe(true);
    // Without includeOptimizer the model comes back uncompiled, as with tfjs's own handlers.
    expect(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).trainingConfig).toBeUndefined();
  });

  test('includeOptimizer saves the optimizer state, and the loaded model resumes training identically', async () => {
    const build = () => {
      const m = fromSpec({
        architecture: 'mlp',
        inputShape: [6],
        numClasses: 2,
        norm: { type: 'batch' },
        options: { hiddenUnits: [8], seed: 3 },
      });
      m.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
      return m;
    };
    const xs = tf.randomNormal([8, 6], 0, 1, 'float32', 4);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 1, 0, 1, 0, 0, 1], 'int32'), 2);
    const model = build();
    await model.fit(xs, ys, { epochs: 3, batchSize: 8, verbose: 0, shuffle: false });
    const dir = freshDir();
    await saveModel(model, dir, { includeOptimizer: true });
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.trainingConfig.loss).toBe('categorical_crossentropy'); // Keras's serialized name
    const loaded = await loadModel(dir);
    // One more step on each: with Adam's moments restored the two stay bit-identical.
    await model.fit(xs, ys, { epochs: 1, batchSize: 8, verbose: 0, shuffle: false });
    await loaded.fit(xs, ys, { epochs: 1, batchSize: 8, verbose: 0, shuffle: false });
    const a = model.getWeights();
    const b = loaded.getWeights();
    a.forEach((w, i) => expect(bitwiseEqual(w, b[i]!)).toBe(true));
    // Control: the same weights with a fresh Adam (no saved moments) take a different step.
    const plainDir = freshDir();
    await saveModel(build(), plainDir);
    const control = await loadModel(plainDir);
    control.setWeights(loaded.getWeights());
    control.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    await control.fit(xs, ys, { epochs: 1, batchSize: 8, verbose: 0, shuffle: false });
    await loaded.fit(xs, ys, { epochs: 1, batchSize: 8, verbose: 0, shuffle: false });
    expect(bitwiseEqual(control.getWeights()[0]!, loaded.getWeights()[0]!)).toBe(false);
  });

  test('saving again replaces the previous save and leaves one weights file; other files are left alone', async () => {
    const dir = freshDir();
    const a = fromSpec({ architecture: 'mlp', inputShape: [4], numClasses: 2, options: { hiddenUnits: [3], seed: 1 } });
    const b = fromSpec({ architecture: 'mlp', inputShape: [4], numClasses: 2, options: { hiddenUnits: [3], seed: 2 } });
    await saveModel(a, dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await saveModel(b, dir);
    expect(readdirSync(dir).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    const x = tf.ones([1, 4]);
    expect(bitwiseEqual((await loadModel(dir)).predict(x) as tf.Tensor, b.predict(x) as tf.Tensor)).toBe(true);
  });
});

describe('loadModel errors', () => {
  async function errorOf(fn: () => Promise<unknown>): Promise<BnlabError> {
    try {
      await fn();
    } catch (e) {
      expect(e).toBeInstanceOf(BnlabError);
      return e as BnlabError;
    }
    throw new Error('expected a BnlabError, nothing was thrown');
  }
  async function saved(): Promise<string> {
    const dir = freshDir();
    await saveModel(fromSpec({ architecture: 'mlp', inputShape: [4], numClasses: 2, options: { hiddenUnits: [3] } }), dir);
    return dir;
  }
  const weightsFile = (dir: string) => join(dir, readdirSync(dir).find((f) => f.endsWith('.bin'))!);

  test('a folder without model.json is DATA_MISSING naming the file', async () => {
    const dir = freshDir();
    const e = await errorOf(() => loadModel(dir));
    expect(e.code).toBe('DATA_MISSING');
    expect(e.message).toBe(`loadModel: no saved model in ${dir} (${join(dir, 'model.json')} does not exist)`);
  });

  test('model.json that is not JSON is DATA_FORMAT', async () => {
    const dir = await saved();
    writeFileSync(join(dir, 'model.json'), '{"modelTopology": ');
    const e = await errorOf(() => loadModel(dir));
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toContain(`loadModel: ${join(dir, 'model.json')} is not valid JSON`);
  });

  test('a weights path that leaves the folder is refused', async () => {
    const dir = await saved();
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['../secret.bin'];
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const e = await errorOf(() => loadModel(dir));
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toContain('`weightsManifest[0].paths` must hold plain file names in the model\'s folder, got "../secret.bin"');
  });

  test('a truncated weights file is DATA_FORMAT with both sizes', async () => {
    const dir = await saved();
    const file = weightsFile(dir);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 4));
    const e = await errorOf(() => loadModel(dir));
    expect(e.code).toBe('DATA_FORMAT');
    // mlp 4 → 3 → 2: 4·3+3 + 3·2+2 = 23 float32 = 92 bytes
    expect(e.message).toContain('hold 88 bytes, but its weightsManifest describes 92');
  });

  test('a missing weights file is DATA_MISSING naming it', async () => {
    const dir = await saved();
    const file = weightsFile(dir);
    rmSync(file);
    const e = await errorOf(() => loadModel(dir));
    expect(e.code).toBe('DATA_MISSING');
    expect(e.message).toContain(`${file}, listed in ${join(dir, 'model.json')}, does not exist`);
  });

  test('an unknown layer class is DATA_FORMAT with a hint', async () => {
    const dir = await saved();
    const text = readFileSync(join(dir, 'model.json'), 'utf8').replace(/"class_name":"Dense"/g, '"class_name":"FancyDense"');
    writeFileSync(join(dir, 'model.json'), text);
    const e = await errorOf(() => loadModel(dir));
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toContain('FancyDense');
    expect(e.message).toContain('a custom class is not registered');
  });

  test('a weights file whose bytes do not match the SHA-256 in its name is CHECKSUM_MISMATCH naming it', async () => {
    const dir = await saved();
    const file = weightsFile(dir);
    const bytes = readFileSync(file);
    bytes[2] = 0xc0; // the high bytes of the first float32 weight: NaN,
    bytes[3] = 0xff; // which used to load and predict NaN
    writeFileSync(file, bytes);
    const e = await errorOf(() => loadModel(dir));
    expect(e.code).toBe('CHECKSUM_MISMATCH');
    const named = file.slice(file.lastIndexOf('weights.') + 'weights.'.length, -'.bin'.length);
    expect(e.message).toMatch(
      new RegExp(`^loadModel: ${file.replace(/[.]/g, '\\.')} is corrupt: its SHA-256 begins [0-9a-f]{16}, but it is named for ${named}$`),
    );
    expect(e.where).toBe(file);
  });

  test.each([
    ['dtype', {}, '`weightsManifest[0].weights[0].dtype` must be one of float32, int32, bool, complex64, string, got {}'],
    ['dtype', 'int8', '`weightsManifest[0].weights[0].dtype` must be one of float32, int32, bool, complex64, string, got "int8"'],
    ['shape', [4, 'x'], '`weightsManifest[0].weights[0].shape` must be a list of non-negative integers, got [4,"x"]'],
    ['shape', [4, -3], '`weightsManifest[0].weights[0].shape` must be a list of non-negative integers, got [4,-3]'],
    ['name', '', '`weightsManifest[0].weights[0].name` must be a non-empty string, got ""'],
    [
      'quantization',
      { dtype: 'int4' },
      '`weightsManifest[0].weights[0].quantization.dtype` must be one of uint8, uint16, float16, got "int4"',
    ],
  ])('a weights manifest entry with a bad %s (%j) is DATA_FORMAT naming the field', async (key, value, rule) => {
    const dir = await saved();
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].weights[0][key] = value;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const e = await errorOf(() => loadModel(dir));
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toBe(`loadModel: ${join(dir, 'model.json')}: ${rule}`);
    expect(e.where).toBe(`${join(dir, 'model.json')}#weightsManifest[0].weights[0].${key === 'quantization' ? 'quantization.dtype' : key}`);
  });

  // Found by fuzzing (test/node/fuzz.test.ts): the three below failed without their fix.
  const withManifest = (dir: string, edit: (entry: Record<string, unknown>) => void): void => {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    edit(json.weightsManifest[0].weights[0]);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  };

  test('a string weight declaring more strings than the weights hold is refused at once (it took a minute and gigabytes)', async () => {
    const dir = await saved();
    withManifest(dir, (entry) => Object.assign(entry, { dtype: 'string', shape: [1e7] }));
    const started = performance.now();
    const e = await errorOf(() => loadModel(dir));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(e.code).toBe('DATA_FORMAT');
    // 92 bytes; the 4 × 3 kernel (48) now 10,000,000 strings of at least their 4-byte length
    expect(e.message).toBe(
      `loadModel: the weights files of ${join(dir, 'model.json')} hold 92 bytes, but its weightsManifest describes at least 40000044`,
    );
  });

  test.each([
    [{ dtype: 'uint8', scale: 'x', min: 0 }, 'scale', 'got "x"'],
    [{ dtype: 'uint16', scale: 0.1 }, 'min', 'got nothing'],
  ])('quantization %j is DATA_FORMAT naming the field (a scale or min not a number loaded NaN weights)', async (quantization, key, got) => {
    const dir = await saved();
    withManifest(dir, (entry) => (entry['quantization'] = quantization));
    const e = await errorOf(() => loadModel(dir));
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toBe(
      `loadModel: ${join(dir, 'model.json')}: \`weightsManifest[0].weights[0].quantization.${key}\` must be a finite number for ${quantization.dtype} weights, ${got}`,
    );
  });

  test('a manifest value nested too deep to print is DATA_FORMAT naming the field, not a stack overflow', async () => {
    const dir = await saved();
    withManifest(dir, (entry) => (entry['shape'] = '@deep@'));
    const text = readFileSync(join(dir, 'model.json'), 'utf8');
    writeFileSync(
      join(dir, 'model.json'),
      text.replace('"@deep@"', () => '['.repeat(100000) + ']'.repeat(100000)),
    );
    const e = await errorOf(() => loadModel(dir));
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toBe(
      `loadModel: ${join(dir, 'model.json')}: \`weightsManifest[0].weights[0].shape\` must be a list of non-negative integers, got a value nested too deeply to show`,
    );
  });

  test.each([']loat32', 'string', ['float32']])(
    'an input dtype of %j is DATA_FORMAT naming model.json (the model loaded, and failed in its first prediction)',
    async (dtype) => {
      const dir = await saved();
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      json.modelTopology.config.layers[0].config.dtype = dtype;
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      const e = await errorOf(() => loadModel(dir));
      expect(e.code).toBe('DATA_FORMAT');
      expect(e.message).toMatch(
        new RegExp(
          `^loadModel: the model in ${join(dir, 'model.json').replace(/[.]/g, '\\.')} cannot be rebuilt: the dtype of its input block1_dense_input\\w* must be one of float32, int32, bool, got ${JSON.stringify(dtype).replace(/[[\]]/g, '\\$&')}$`,
        ),
      );
    },
  );

  test.each([
    [{ class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'uniform', seed: null } }, 'VarianceScaling'],
    ['Zeros', 'Zeros'],
  ])(
    'an activation %j that names another kind of class is DATA_FORMAT naming model.json (the model loaded, and its prediction threw a TypeError)',
    async (activation, got) => {
      const dir = await saved();
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      json.modelTopology.config.layers[0].config.activation = activation;
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      const e = await errorOf(() => loadModel(dir));
      expect(e.code).toBe('DATA_FORMAT');
      expect(e.message).toBe(
        `loadModel: the model in ${join(dir, 'model.json')} cannot be rebuilt: the activation of layer block1_dense must be an activation function, got ${got}`,
      );
    },
  );

  test('an invalid option of a bnlab layer (groups not dividing the channels) is DATA_FORMAT naming model.json', async () => {
    const dir = freshDir();
    await saveModel(
      fromSpec({ architecture: 'mlp', inputShape: [4], numClasses: 2, norm: { type: 'group', groups: 2 }, options: { hiddenUnits: [4] } }),
      dir,
    );
    const text = readFileSync(join(dir, 'model.json'), 'utf8').replace(/"groups":2/g, '"groups":3');
    writeFileSync(join(dir, 'model.json'), text);
    const e = await errorOf(() => loadModel(dir));
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toBe(
      `loadModel: the model in ${join(dir, 'model.json')} cannot be rebuilt: ` +
        'GroupNormalization: `groups` (3) must divide the number of channels (4) on axis -1',
    );
    expect(e.where).toBe(join(dir, 'model.json'));
    expect((e.cause as BnlabError).code).toBe('INVALID_CONFIG');
  });

  test('an empty folder name is INVALID_ARGUMENT', async () => {
    const e = await errorOf(() => loadModel(''));
    expect(e.code).toBe('INVALID_ARGUMENT');
  });
});
