// Property tests of loadModel: a saved model's model.json replaced by random bytes, truncated or
// changed byte by byte, or with fields deleted, replaced or retyped (layer configs, dtypes,
// shapes, quantization, weights manifest entries, paths); its weights file truncated, extended
// or changed, under its own name or renamed after its new SHA-256 — it loads to a model that
// predicts finite numbers (when its weights are moderate), or it is refused with a BnlabError of
// the documented codes whose message names the file; never another exception, and never more
// than a time and memory budget per case (a manifest declaring a huge shape over a tiny file
// included). Set BNLAB_FUZZ_RUNS=<n> to run every property n times (the default is quick).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { BnlabError, initBackend } from '@bnlab/core';
import type { BnlabErrorCode, ModelSpec } from '@bnlab/core';
import fc from 'fast-check';
import { fromSpec } from '../../src/index.js';
import { loadModel, saveModel } from '../../src/node.js';
import { corruptedBytes, FuzzOutcomes, fuzzParameters, fuzzTimeLimit, measured } from '../../../../test-support/fuzz.js';
import { copy, mutatedText, mutationArb, textChangeArb } from '../../../../test-support/json_mutations.js';
import type { Json } from '../../../../test-support/json_mutations.js';

/** The codes loadModel documents for a folder it cannot load. */
const CODES: readonly BnlabErrorCode[] = ['DATA_MISSING', 'CHECKSUM_MISMATCH', 'DATA_FORMAT'];

/**
 * Per case. The RSS bound is what a refusal may cost, not a model: the models here are tiny,
 * and a manifest or topology declaring gigabytes must be refused without allocating them.
 */
const BUDGET = { ms: 5000, heapBytes: 256 * 1024 * 1024, rssBytes: 256 * 1024 * 1024, tensorBytes: 64 * 1024 * 1024 };

/** The largest input a loaded model is run on (a mutated input shape can declare any size). */
const MAX_INPUT = 100_000;

interface Saved {
  name: string;
  modelJson: string;
  json: { [key: string]: Json };
  weightsName: string;
  weights: Uint8Array;
}

let root: string;
const SAVED: Saved[] = [];

const SPECS: ModelSpec[] = [
  { architecture: 'mlp', inputShape: [5], numClasses: 3, norm: { type: 'batch' }, options: { hiddenUnits: [4] } },
  {
    architecture: 'custom',
    inputShape: [6, 6, 2],
    numClasses: 3,
    norm: { type: 'group', groups: 2 },
    options: { blocks: [{ type: 'conv', filters: 4, padding: 'same' }, { type: 'maxPool' }, { type: 'dense', units: 4 }] },
  },
  {
    architecture: 'mlp',
    inputShape: [3, 2],
    numClasses: 2,
    norm: { type: 'layer' },
    placement: { position: 'after-activation' },
    options: { hiddenUnits: [3] },
  },
];

beforeAll(async () => {
  await initBackend();
  root = mkdtempSync(join(tmpdir(), 'bnlab-models-fuzz-'));
  for (const [i, spec] of SPECS.entries()) {
    const dir = join(root, `saved${i}`);
    await saveModel(fromSpec(spec), dir);
    const weightsName = readdirSync(dir).find((f) => f.endsWith('.bin')) as string;
    const modelJson = readFileSync(join(dir, 'model.json'), 'utf8');
    SAVED.push({
      name: `${spec.architecture} ${spec.norm?.type}`,
      modelJson,
      json: JSON.parse(modelJson) as { [key: string]: Json },
      weightsName,
      weights: new Uint8Array(readFileSync(join(dir, weightsName))),
    });
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const outcomes = new FuzzOutcomes((e) => e instanceof BnlabError);
beforeEach(() => outcomes.reset());
afterEach(() => {
  // Every property reaches both outcomes: folders that load (the unchanged saves, harmless
  // changes) and folders refused.
  expect(outcomes.ok).toBeGreaterThan(0);
  expect(outcomes.error).toBeGreaterThan(0);
});

/** A folder's files: model.json and the weights files by name. */
interface Files {
  modelJson: string | Uint8Array;
  weights: [string, Uint8Array][];
  /**
   * The weights files hold moderate values that the manifest decodes as they were written (no
   * dtype reinterpreting their bytes): a model that loads must then have moderate weights.
   */
  moderate?: boolean;
}

/** The weights file named as saveModel names it: after the first 16 hex digits of its SHA-256. */
const hashName = (bytes: Uint8Array) => `weights.${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.bin`;

/** Whether every value of `t` is finite, and at most `bound` in size. */
const finite = (t: tf.Tensor, bound = Infinity): boolean =>
  t.dtype === 'string' || Array.from(t.dataSync() as Float32Array).every((v) => Math.abs(v) <= bound);

/**
 * Weights that cannot overflow float32 in these tiny models (a few layers of tens of units, inputs
 * in [0, 1)): a loaded model whose weights are all within it must predict finite numbers.
 */
const MODERATE = 1e4;

/** Runs a loaded model on a random batch of two, unless its input is too large to bother. */
function predictions(model: LayersModel): tf.Tensor[] | undefined {
  const shape = (model.inputs[0]?.shape ?? []).map((d) => d ?? 2);
  const size = shape.reduce((p, d) => p * d, 1);
  if (model.inputs.length !== 1 || !shape.every((d) => Number.isInteger(d) && d > 0) || size > MAX_INPUT) return undefined;
  const out = model.predict(tf.randomUniform(shape, 0, 1, 'float32', 7));
  return Array.isArray(out) ? out : [out];
}

let cases = 0;

/**
 * Writes `files` to a fresh folder and loads it within the budget: a refusal must be typed, of
 * a documented code, and name a file of the folder; a model that loads must have moderate
 * weights if its files hold them as written, and predict finite numbers if its weights are
 * moderate. The folder and the model are removed afterwards.
 */
async function loadsOrRefuses(files: Files): Promise<'ok' | 'error'> {
  const dir = join(root, `case${++cases}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'model.json'), files.modelJson);
  for (const [name, bytes] of files.weights) writeFileSync(join(dir, name), bytes);
  const rss = process.memoryUsage().rss;
  const tensorBytes = tf.memory().numBytes;
  const { cost, result } = await measured(() => loadModel(dir));
  try {
    expect(cost.ms).toBeLessThan(BUDGET.ms);
    expect(cost.heapGrowth).toBeLessThan(BUDGET.heapBytes);
    expect(process.memoryUsage().rss - rss).toBeLessThan(BUDGET.rssBytes);
    expect(tf.memory().numBytes - tensorBytes).toBeLessThan(BUDGET.tensorBytes);
    const outcome = await outcomes.of(() => {
      if (result.status === 'rejected') throw result.reason;
    });
    if (result.status === 'rejected') {
      const e = result.reason as BnlabError;
      expect(CODES).toContain(e.code);
      const modelJson = join(dir, 'model.json');
      // The message names model.json (which lists the weights), or the weights file that is corrupt.
      if (e.code === 'CHECKSUM_MISMATCH')
        expect(e.message).toMatch(new RegExp(`^loadModel: ${escaped(join(dir, 'weights.'))}[0-9a-f]{16}\\.bin is corrupt`));
      else expect(e.message).toContain(modelJson);
      expect(e.where?.startsWith(dir)).toBe(true);
    } else {
      const model = result.value;
      const moderate = model.getWeights().every((w) => finite(w, MODERATE));
      if (files.moderate) expect(moderate).toBe(true);
      const out = tf.tidy(() => predictions(model)?.map((t) => !moderate || finite(t)));
      if (out !== undefined) expect(out).not.toContain(false);
      model.dispose();
    }
    return outcome;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const savedArb = fc.nat().map((i) => SAVED[i % SAVED.length] as Saved);
const unchanged = (s: Saved): Files => ({ modelJson: s.modelJson, weights: [[s.weightsName, s.weights]], moderate: true });

/** Whether `text` is JSON with the weights manifest of `saved`. */
function sameManifest(text: string, saved: Saved): boolean {
  try {
    return (
      JSON.stringify((JSON.parse(text.replace(/^\ufeff/, '')) as { weightsManifest?: unknown }).weightsManifest) ===
      JSON.stringify(saved.json['weightsManifest'])
    );
  } catch {
    return false;
  }
}

// ---- what mutations draw from ----

const CLASS_NAMES = [
  'Dense',
  'Conv2D',
  'Activation',
  'Flatten',
  'MaxPooling2D',
  'Dropout',
  'InputLayer',
  'Sequential',
  'Model',
  'Functional',
  'BatchNormalization',
  'LayerNormalization',
  'bnlab>BatchNormalization',
  'bnlab>GroupNormalization',
  'bnlab>LayerNormalization',
  'bnlab>InstanceNormalization',
  'Lambda',
  'toString',
  '__proto__',
  'constructor',
  '',
];
const DTYPES = ['float32', 'int32', 'bool', 'complex64', 'string', 'uint8', 'uint16', 'float16', 'float64', '', 'toString'];

/**
 * Numbers that reach sizes, counts and rates: small, negative, fractional, and too large to
 * allocate at all. Left out: layer sizes of millions to billions of elements, which tfjs
 * allocates (as zeros, in WebAssembly memory it never gives back) while it builds the model,
 * before it compares the weights with the manifest — `"units": 50000000` takes 20 s and 3 GB to
 * be refused. A known limit of loading, not checked here.
 */
const NUMBERS: Json[] = [0, 1, -1, 2, 3, 4, 5, 0.5, -0.5, 1e-30, 1e30, 1e300, 65537, 2 ** 31, 2 ** 53, 1e12, -0];

const MODEL_VALUES: Json[] = [
  ...NUMBERS,
  ...CLASS_NAMES,
  ...DTYPES,
  'same',
  'valid',
  'causal',
  'channels_first',
  'channels_last',
  'relu',
  'softmax',
  'linear',
  'sigmoid',
  'tanh',
  'elu',
  'nope',
  null,
  true,
  false,
  [],
  {},
  [2, 2],
  [1, 1],
  [0, 0],
  [1e12, 1e12],
  [null, 5],
  [null, 0],
  [null, -1],
  [null, 6, 6, 2],
  [null, 3, 2],
  [null, 1e12],
  [4],
  [5, 4],
  [0],
  [],
  [3, 3, 2, 4],
  [2 ** 31],
  [1e9, 1e9],
  { dtype: 'uint8', scale: 0.01, min: -1 },
  { dtype: 'uint16', scale: 0.001, min: 0 },
  { dtype: 'float16' },
  { dtype: 'uint8' },
  { dtype: 'uint8', scale: 'x', min: null },
  { class_name: 'Zeros', config: {} },
  { class_name: 'Nope', config: {} },
  JSON.parse('{"__proto__": {"polluted": true}}') as Json,
];

const MODEL_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'class_name',
  'config',
  'name',
  'units',
  'filters',
  'kernel_size',
  'strides',
  'padding',
  'activation',
  'use_bias',
  'groups',
  'axis',
  'epsilon',
  'momentum',
  'center',
  'scale',
  'batch_input_shape',
  'dtype',
  'layers',
  'inbound_nodes',
  'weightsManifest',
  'paths',
  'weights',
  'shape',
  'quantization',
  'trainable',
  'rate',
  'pool_size',
  'data_format',
  'dilation_rate',
  'model_config',
  'modelTopology',
  'format',
  'trainingConfig',
  'userDefinedMetadata',
  'group',
  '',
];

const modelMutationArb = mutationArb({
  keys: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...MODEL_KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }),
  values: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...MODEL_VALUES) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  ),
  lengths: fc.nat({ max: 20 }),
  depths: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(1000, 100_000)),
});

// ---- weights that match a mutated manifest ----

interface Entry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: unknown; min?: unknown };
}

/**
 * Bytes for the entries of a manifest, as many as it describes (each value random and finite),
 * or `undefined` when it is too malformed to tell or would be too large.
 */
function bytesFor(entries: unknown, seed: number): Uint8Array | undefined {
  if (!Array.isArray(entries)) return undefined;
  const parts: Uint8Array[] = [];
  let total = 0;
  let state = seed >>> 0;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (const e of entries as Entry[]) {
    if (e === null || typeof e !== 'object' || !Array.isArray(e.shape)) return undefined;
    const n = e.shape.reduce((p, d) => p * (typeof d === 'number' ? d : NaN), 1);
    if (!Number.isInteger(n) || n < 0 || n > 10_000) return undefined;
    const stored = e.quantization?.dtype ?? e.dtype;
    let part: Uint8Array;
    if (stored === 'string') {
      part = new Uint8Array(n * 6);
      const view = new DataView(part.buffer);
      for (let i = 0; i < n; i++) view.setUint32(i * 6, 2, true);
    } else {
      const size = ({ float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 } as Record<string, number>)[stored];
      if (size === undefined) return undefined;
      part = new Uint8Array(n * size);
      if (stored === 'float32' || stored === 'complex64') {
        const f = new Float32Array(part.buffer);
        for (let i = 0; i < f.length; i++) f[i] = next() * 2 - 1;
      } else if (stored === 'int32') {
        const v = new Int32Array(part.buffer);
        for (let i = 0; i < v.length; i++) v[i] = Math.floor(next() * 10) - 5;
      } else if (stored === 'float16') {
        // Half-precision values in [0.5, 1): sign 0, exponent 14, a random mantissa.
        const v = new Uint16Array(part.buffer);
        for (let i = 0; i < v.length; i++) v[i] = (14 << 10) | Math.floor(next() * 1024);
      } else {
        for (let i = 0; i < part.length; i++) part[i] = stored === 'bool' ? Math.floor(next() * 2) : Math.floor(next() * 256);
      }
    }
    parts.push(part);
    total += part.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** `arb`'s values now and then (a quarter of the time), otherwise undefined. */
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

/** Changes to one weights manifest entry: the fields tfjs decodes weights by. */
const entryChangeArb = fc.record({
  entry: fc.nat(),
  dtype: sometimes(fc.constantFrom<Json>(...DTYPES, 3, null)),
  shape: sometimes(
    fc.oneof(
      fc.array(fc.nat({ max: 6 }), { maxLength: 4 }) as fc.Arbitrary<Json>,
      fc.constantFrom<Json>([], [0], [1e9, 1e9], [2 ** 31], [2 ** 26], [1e7], [-1], [1.5], ['4'], 4, null),
    ),
  ),
  quantization: sometimes(
    fc.constantFrom<Json>(
      { dtype: 'uint8', scale: 0.01, min: -1 },
      { dtype: 'uint16', scale: 0.001, min: 0 },
      { dtype: 'float16' },
      { dtype: 'uint8' },
      { dtype: 'uint16', scale: '0.1', min: 0 },
      { dtype: 'uint8', scale: 1, min: null },
      { dtype: 'uint8', scale: 'x', min: 0 },
      { dtype: 'uint16', scale: 0.5, min: {} },
      { dtype: 'int4' },
      null,
      'uint8',
    ),
  ),
  name: sometimes(fc.oneof(fc.constantFrom('', 'classifier/kernel', 'block1_dense/kernel', 'x', '__proto__'), fc.string({ maxLength: 4 }))),
  remove: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  swap: sometimes(fc.nat()),
});

/** Changes to a manifest's paths: another or no file, a path out of the folder, two files. */
const pathsChangeArb = sometimes(
  fc.constantFrom<(p: string) => Json>(
    () => [],
    () => ['weights.0000000000000000.bin'],
    () => ['../weights.bin'],
    () => [''],
    () => ['model.json'],
    (p) => [p, p],
    () => [7],
    () => 'weights.bin',
    (p) => [`./${p}`],
  ),
);

/** A saved model with its model.json text (after a mutation) and its weights unchanged. */
const mutatedModelJsonArb = fc
  .tuple(savedArb, fc.array(modelMutationArb, { minLength: 1, maxLength: 3 }), textChangeArb)
  .map(([saved, mutations, change]): Files => {
    const modelJson = change(mutatedText(saved.json, mutations));
    return { modelJson, weights: [[saved.weightsName, saved.weights]], moderate: sameManifest(modelJson, saved) };
  });

/**
 * A saved model whose weights manifest has entries changed (dtype, shape, quantization, name,
 * order, removal) and maybe its paths; with the weights unchanged, or rewritten to the size the
 * new manifest describes and named after their SHA-256 (so the decoding is what is tested).
 */
const mutatedManifestArb = fc
  .tuple(savedArb, fc.array(entryChangeArb, { minLength: 1, maxLength: 3 }), pathsChangeArb, fc.boolean(), fc.nat())
  .map(([saved, changes, paths, rewrite, seed]): Files => {
    const json = copy(saved.json) as { weightsManifest: { paths: Json; weights: Json[] }[] };
    const group = json.weightsManifest[0] as { paths: Json; weights: Json[] };
    for (const c of changes) {
      const weights = group.weights;
      if (weights.length === 0) break;
      const i = c.entry % weights.length;
      const e = weights[i] as { [key: string]: Json };
      if (c.dtype !== undefined) e['dtype'] = c.dtype;
      if (c.shape !== undefined) e['shape'] = c.shape;
      if (c.quantization !== undefined) e['quantization'] = c.quantization;
      if (c.name !== undefined) e['name'] = c.name;
      if (c.swap !== undefined) {
        const j = c.swap % weights.length;
        [weights[i], weights[j]] = [weights[j] as Json, weights[i] as Json];
      }
      if (c.remove) weights.splice(i, 1);
    }
    const rewritten = rewrite ? bytesFor(group.weights, seed) : undefined;
    const name = rewritten ? hashName(rewritten) : saved.weightsName;
    group.paths = paths ? paths(name) : [name];
    return { modelJson: JSON.stringify(json), weights: [[name, rewritten ?? saved.weights]], moderate: rewritten !== undefined };
  });

/** A saved model's weights truncated, extended or changed, under their name or renamed after their new SHA-256. */
const mutatedWeightsArb = savedArb.chain((saved) =>
  fc
    .tuple(
      fc.oneof(
        corruptedBytes(saved.weights, 64),
        fc.uint8Array({ minLength: 1, maxLength: 64 }).map((extra) => new Uint8Array([...saved.weights, ...extra])),
        // A few float32 weights set to values that are finite or not, keeping the size.
        fc
          .array(fc.tuple(fc.nat(), fc.constantFrom(0, -1, 1e30, 3.4e38, Infinity, -Infinity, NaN)), { minLength: 1, maxLength: 3 })
          .map((sets) => {
            const copy = saved.weights.slice();
            const f = new Float32Array(copy.buffer);
            for (const [at, v] of sets) f[at % f.length] = v;
            return copy;
          }),
      ),
      fc.boolean(),
    )
    .map(([bytes, rename]): Files => {
      const name = rename ? hashName(bytes) : saved.weightsName;
      return { modelJson: saved.modelJson.split(saved.weightsName).join(name), weights: [[name, bytes]] };
    }),
);

describe('loadModel under random, corrupted and mutated files', () => {
  it(
    'model.json as random bytes, truncated, or with bytes changed',
    async () => {
      const arb = savedArb.chain((saved) =>
        corruptedBytes(new Uint8Array(Buffer.from(saved.modelJson))).map(
          (bytes): Files => ({ modelJson: bytes, weights: [[saved.weightsName, saved.weights]] }),
        ),
      );
      await fc.assert(
        fc.asyncProperty(arb, async (files) => {
          await loadsOrRefuses(files);
        }),
        fuzzParameters(
          150,
          SAVED.map((s) => [unchanged(s)]),
        ),
      );
    },
    fuzzTimeLimit(40000),
  );

  it(
    'model.json with fields deleted, replaced, retyped, renamed, repeated, grown or nested (layer configs, topology, manifest)',
    async () => {
      await fc.assert(
        fc.asyncProperty(mutatedModelJsonArb, async (files) => {
          await loadsOrRefuses(files);
        }),
        fuzzParameters(
          200,
          SAVED.map((s) => [unchanged(s)]),
        ),
      );
    },
    fuzzTimeLimit(40000),
  );

  it(
    'weights manifest entries with other dtypes, shapes, quantization, names, order and paths, over their weights or ones of the size they describe',
    async () => {
      await fc.assert(
        fc.asyncProperty(mutatedManifestArb, async (files) => {
          await loadsOrRefuses(files);
        }),
        fuzzParameters(
          200,
          SAVED.map((s) => [unchanged(s)]),
        ),
      );
    },
    fuzzTimeLimit(40000),
  );

  it(
    'weights files truncated, extended or changed, under their name or renamed after their new SHA-256',
    async () => {
      await fc.assert(
        fc.asyncProperty(mutatedWeightsArb, async (files) => {
          await loadsOrRefuses(files);
        }),
        fuzzParameters(
          150,
          SAVED.map((s) => [unchanged(s)]),
        ),
      );
    },
    fuzzTimeLimit(40000),
  );

  it(
    'a manifest declaring a huge shape over a tiny file is refused at once, without allocating it',
    async () => {
      const hugeArb = fc.record({
        saved: savedArb,
        entry: fc.nat(),
        // Mostly a huge shape; now and then none, the save unchanged.
        shape: fc.option(fc.constantFrom<number[]>([2 ** 26], [1e9, 1e9], [2 ** 31], [1e7], [65536, 65536], [2 ** 53]), {
          nil: undefined,
          freq: 8,
        }),
        dtype: fc.constantFrom('float32', 'int32', 'bool', 'complex64', 'string'),
        quantization: fc.option(fc.constantFrom<Json>({ dtype: 'uint8', scale: 1, min: 0 }, { dtype: 'float16' }), { nil: undefined }),
      });
      type Huge = typeof hugeArb extends fc.Arbitrary<infer T> ? T : never;
      await fc.assert(
        fc.asyncProperty(hugeArb, async ({ saved, entry, shape, dtype, quantization }) => {
          const json = copy(saved.json) as { weightsManifest: { weights: { [key: string]: Json }[] }[] };
          const weights = (json.weightsManifest[0] as { weights: { [key: string]: Json }[] }).weights;
          const e = weights[entry % weights.length] as { [key: string]: Json };
          if (shape) Object.assign(e, { shape, dtype }, quantization ? { quantization } : {});
          const outcome = await loadsOrRefuses({ modelJson: JSON.stringify(json), weights: [[saved.weightsName, saved.weights]] });
          expect(outcome).toBe(shape ? 'error' : 'ok');
        }),
        fuzzParameters(40, [[{ saved: SAVED[0] as Saved, entry: 0, shape: undefined, dtype: 'float32', quantization: undefined } as Huge]]),
      );
    },
    fuzzTimeLimit(40000),
  );
});
