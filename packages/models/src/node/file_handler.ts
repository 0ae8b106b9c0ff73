import { createHash, randomBytes } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { io } from '@tensorflow/tfjs-core';
import { BnlabError, isBnlabError } from '@bnlab/core';
import { fileOps } from './file_ops.js';

/** Name of the topology file in a saved-model folder (as tfjs's own `file://` handler). */
export const MODEL_JSON = 'model.json';

const WEIGHTS_FILE = /^weights\.[0-9a-f]{16}\.bin$/;

/** The first 16 hex digits of the SHA-256 of a weights file's bytes: the name saveModel gives it. */
function weightsDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}
const TEMP_FILE = /^(model\.json|weights\.[0-9a-f]{16}\.bin)\.tmp-[0-9a-f]+$/;

const BYTES_PER_ELEMENT: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** The dtypes a weight may have in a weights manifest (tfjs `WeightsManifestEntry.dtype`). */
const WEIGHT_DTYPES: readonly string[] = ['float32', 'int32', 'bool', 'complex64', 'string'];
/** The dtypes a quantized weight may be stored as (`WeightsManifestEntry.quantization.dtype`). */
const QUANTIZED_DTYPES: readonly string[] = ['uint8', 'uint16', 'float16'];

// Saves to one folder run one after another within this process: a save's clean-up must not
// delete the weights file a concurrent save has written but not yet published.
const queues = new Map<string, Promise<unknown>>();

function serialized<T>(dir: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(dir) ?? Promise.resolve();
  const run = previous.then(task, task);
  const tail = run.catch(() => undefined);
  queues.set(dir, tail);
  void tail.then(() => {
    if (queues.get(dir) === tail) queues.delete(dir);
  });
  return run;
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function ioError(message: string, where: string, cause: unknown): BnlabError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new BnlabError('IO_ERROR', `${message}${reason}`, { where, cause });
}

/**
 * Bytes the weights described by `specs` take: exactly, or at least (`exact` false) when a string
 * weight makes the size variable, each of its strings stored after a 4-byte length.
 */
function expectedBytes(specs: io.WeightsManifestEntry[]): { bytes: number; exact: boolean } {
  let bytes = 0;
  let exact = true;
  for (const spec of specs) {
    const size = BYTES_PER_ELEMENT[spec.quantization?.dtype ?? spec.dtype];
    if (size === undefined) exact = false;
    bytes += spec.shape.reduce((p, d) => p * d, 1) * (size ?? 4);
  }
  return { bytes, exact };
}

async function save(dir: string, artifacts: io.ModelArtifacts): Promise<io.SaveResult> {
  if (artifacts.modelTopology instanceof ArrayBuffer || artifacts.modelTopology == null) {
    throw new BnlabError('INVALID_ARGUMENT', 'saveModel: only layers models with a JSON topology can be saved', {
      where: dir,
    });
  }
  const weights = new Uint8Array(io.CompositeArrayBuffer.join(artifacts.weightData ?? []));
  const weightsName = `weights.${weightsDigest(weights)}.bin`;
  const modelJson: io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.trainingConfig != null) modelJson.trainingConfig = artifacts.trainingConfig;
  if (artifacts.signature != null) modelJson.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata != null) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer != null) modelJson.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature != null) modelJson.initializerSignature = artifacts.initializerSignature;

  try {
    await fileOps.mkdirp(dir);
  } catch (e) {
    throw ioError(`saveModel: cannot create the folder ${dir}`, dir, e);
  }
  const suffix = `.tmp-${randomBytes(6).toString('hex')}`;
  const temps = [join(dir, weightsName + suffix), join(dir, MODEL_JSON + suffix)];
  let step = 'write';
  let target = temps[0]!;
  try {
    // 1. The weights, under a name derived from their content, so that they never replace the
    //    file the current model.json points to (unless the content is identical).
    await fileOps.writeFileDurable(temps[0]!, weights);
    step = 'rename';
    target = join(dir, weightsName);
    await fileOps.rename(temps[0]!, target);
    // 2. model.json, published by one atomic rename: before it the folder holds the previous
    //    save, after it the new one, and at no moment a mix of the two.
    step = 'write';
    target = temps[1]!;
    await fileOps.writeFileDurable(temps[1]!, JSON.stringify(modelJson));
    step = 'rename';
    target = join(dir, MODEL_JSON);
    await fileOps.rename(temps[1]!, target);
    await fileOps.syncDir(dir);
  } catch (e) {
    await Promise.all(temps.map((t) => fileOps.unlinkIfExists(t).catch(() => undefined)));
    throw ioError(`saveModel: could not ${step} ${target}; the previous save in ${dir}, if any, is unchanged`, target, e);
  }
  // 3. Remove weights no model.json points to any more, and temp files of crashed saves.
  try {
    for (const name of await fileOps.readdir(dir)) {
      if ((WEIGHTS_FILE.test(name) && name !== weightsName) || TEMP_FILE.test(name)) {
        await fileOps.unlinkIfExists(join(dir, name));
      }
    }
  } catch {
    // Left-over files do no harm: model.json names the weights it uses.
  }
  return { modelArtifactsInfo: io.getModelArtifactsInfoForJSON(artifacts) };
}

/**
 * A value of model.json as JSON, for messages; one nested too deep for JSON.stringify (which
 * recurses, and overflowed the stack with a RangeError instead of the error naming the field) is
 * described instead.
 */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value);
  } catch {
    return 'a value nested too deeply to show';
  }
}

/**
 * Checks one entry of a weights manifest, so that a malformed one fails on load naming its field
 * rather than in the first prediction: a non-empty `name`, a `shape` of non-negative integers, a
 * `dtype` tfjs stores and, when quantized, a quantized dtype (with a finite `scale` and `min` for
 * uint8 and uint16).
 */
function checkWeightEntry(entry: unknown, field: string, fail: (field: string, rule: string) => never): void {
  const got = (value: unknown): string => `got ${shown(value)}`;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    fail(field, `must be an object {name, shape, dtype}, ${got(entry)}`);
  }
  const e = entry as Record<string, unknown>;
  if (typeof e['name'] !== 'string' || e['name'] === '') fail(`${field}.name`, `must be a non-empty string, ${got(e['name'])}`);
  const shape = e['shape'];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    fail(`${field}.shape`, `must be a list of non-negative integers, ${got(shape)}`);
  }
  if (typeof e['dtype'] !== 'string' || !WEIGHT_DTYPES.includes(e['dtype'])) {
    fail(`${field}.dtype`, `must be one of ${WEIGHT_DTYPES.join(', ')}, ${got(e['dtype'])}`);
  }
  const quantization = e['quantization'];
  if (quantization !== undefined) {
    const q = quantization as Record<string, unknown> | null;
    if (q === null || typeof q !== 'object' || typeof q['dtype'] !== 'string' || !QUANTIZED_DTYPES.includes(q['dtype'])) {
      fail(`${field}.quantization.dtype`, `must be one of ${QUANTIZED_DTYPES.join(', ')}, ${got(q?.['dtype'])}`);
    }
    // tfjs decodes uint8 and uint16 values as `value × scale + min`: without two numbers every
    // value is NaN, and the model loaded and predicted NaN.
    for (const key of q!['dtype'] === 'float16' ? [] : ['scale', 'min']) {
      if (!Number.isFinite(q![key]))
        fail(`${field}.quantization.${key}`, `must be a finite number for ${q!['dtype']} weights, ${got(q![key])}`);
    }
  }
}

function parseModelJson(text: string, path: string): io.ModelJSON {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BnlabError('DATA_FORMAT', `loadModel: ${path} is not valid JSON: ${(e as Error).message}`, {
      where: path,
      cause: e,
    });
  }
  const fail = (field: string, rule: string): never => {
    throw new BnlabError('DATA_FORMAT', `loadModel: ${path}: \`${field}\` ${rule}`, { where: `${path}#${field}` });
  };
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('(root)', 'must be a JSON object');
  const m = json as Record<string, unknown>;
  if (m['modelTopology'] === null || typeof m['modelTopology'] !== 'object') {
    fail('modelTopology', 'must be an object (the Keras model config)');
  }
  const manifest = m['weightsManifest'];
  if (!Array.isArray(manifest)) fail('weightsManifest', 'must be a list of {paths, weights} groups');
  (manifest as unknown[]).forEach((group, i) => {
    const g = group as { paths?: unknown; weights?: unknown } | null;
    if (g === null || typeof g !== 'object' || !Array.isArray(g.paths) || !Array.isArray(g.weights)) {
      fail(`weightsManifest[${i}]`, 'must be an object {paths: string[], weights: object[]}');
    }
    for (const p of g!.paths as unknown[]) {
      // Weights must sit beside model.json: a path that leaves the folder is refused.
      if (typeof p !== 'string' || p === '' || basename(p) !== p || p === '.' || p === '..') {
        fail(`weightsManifest[${i}].paths`, `must hold plain file names in the model's folder, got ${shown(p)}`);
      }
    }
    (g!.weights as unknown[]).forEach((entry, j) => checkWeightEntry(entry, `weightsManifest[${i}].weights[${j}]`, fail));
  });
  return json as io.ModelJSON;
}

async function readWeights(
  dir: string,
  modelJsonPath: string,
  manifest: io.WeightsManifestConfig,
): Promise<[io.WeightsManifestEntry[], ArrayBuffer]> {
  const specs = io.getWeightSpecs(manifest);
  const files: { name: string; path: string; bytes: Uint8Array }[] = [];
  for (const group of manifest) {
    for (const p of group.paths) {
      const path = join(dir, p);
      let bytes: Uint8Array;
      try {
        bytes = await fileOps.readFile(path);
      } catch (e) {
        if (code(e) === 'ENOENT') {
          throw new BnlabError('DATA_MISSING', `loadModel: ${path}, listed in ${modelJsonPath}, does not exist`, {
            where: path,
            cause: e,
          });
        }
        throw ioError(`loadModel: cannot read ${path}`, path, e);
      }
      files.push({ name: p, path, bytes });
    }
  }
  const buffers = files.map((f) => f.bytes);
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  // A string weight's size is checked too: tfjs reads the length of each of its strings, and a
  // manifest declaring millions of them over a few bytes took a minute and gigabytes to refuse.
  const expected = expectedBytes(specs);
  if (expected.exact ? expected.bytes !== total : expected.bytes > total) {
    throw new BnlabError(
      'DATA_FORMAT',
      `loadModel: the weights files of ${modelJsonPath} hold ${total} bytes, but its weightsManifest describes ${expected.exact ? '' : 'at least '}${expected.bytes}`,
      { where: modelJsonPath },
    );
  }
  // saveModel names the weights after their SHA-256: a file that does not match is corrupt.
  for (const { name, path, bytes } of files) {
    if (!WEIGHTS_FILE.test(name)) continue;
    const actual = weightsDigest(bytes);
    const named = name.slice('weights.'.length, -'.bin'.length);
    if (actual !== named) {
      throw new BnlabError(
        'CHECKSUM_MISMATCH',
        `loadModel: ${path} is corrupt: its SHA-256 begins ${actual}, but it is named for ${named}`,
        { where: path },
      );
    }
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    out.set(b, offset);
    offset += b.byteLength;
  }
  return [specs, out.buffer];
}

async function load(dir: string): Promise<io.ModelArtifacts> {
  const modelJsonPath = join(dir, MODEL_JSON);
  // A save running concurrently can replace model.json and delete the weights it pointed to
  // between our two reads; reading model.json again then finds the new, complete save.
  for (let attempt = 0; ; attempt++) {
    let text: string;
    try {
      text = (await fileOps.readFile(modelJsonPath)).toString('utf8');
    } catch (e) {
      if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') {
        throw new BnlabError('DATA_MISSING', `loadModel: no saved model in ${dir} (${modelJsonPath} does not exist)`, {
          where: modelJsonPath,
          cause: e,
        });
      }
      throw ioError(`loadModel: cannot read ${modelJsonPath}`, modelJsonPath, e);
    }
    const modelJson = parseModelJson(text, modelJsonPath);
    try {
      return await io.getModelArtifactsForJSON(modelJson, (manifest) => readWeights(dir, modelJsonPath, manifest));
    } catch (e) {
      if (attempt === 0 && isBnlabError(e, 'DATA_MISSING')) continue;
      throw e;
    }
  }
}

/**
 * A tfjs `IOHandler` that saves a model to, and loads it from, a folder on the local file
 * system: `model.json` (tfjs's layers-model format) beside one `weights.<hash>.bin`. For Node
 * only; in browsers use tfjs's own `indexeddb://` handler.
 *
 * Saving is atomic: the weights go to a new file named after their content, then `model.json`
 * is replaced by a single rename, so a crash at any point leaves either the previous save or the
 * new one, never a mix; weights no longer referenced are removed afterwards. Saves to one folder
 * from one process run one after another; do not save to the same folder from two processes at
 * once.
 *
 * @example
 * ```ts
 * await model.save(nodeFileHandler('runs/cnn'));
 * const again = await tfl.loadLayersModel(nodeFileHandler('runs/cnn'));
 * ```
 */
export function nodeFileHandler(dir: string): io.IOHandler {
  if (typeof dir !== 'string' || dir === '') {
    throw new BnlabError('INVALID_ARGUMENT', `the model folder must be a non-empty path, got ${JSON.stringify(dir)}`, {
      where: 'dir',
    });
  }
  const folder = resolve(dir);
  return {
    save: (artifacts) => serialized(folder, () => save(folder, artifacts)),
    load: () => load(folder),
  };
}
