import { join } from 'node:path';
import { serialization } from '@tensorflow/tfjs-core';
import type { io } from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
// Registers the bnlab normalization layers, so models using them deserialize.
import '@bnlab/layers';
import { BnlabError } from '@bnlab/core';
import { MODEL_JSON, nodeFileHandler } from './file_handler.js';

/** The dtypes a model's input may have: those a batch of numbers is cast to. */
const INPUT_DTYPES: readonly string[] = ['float32', 'int32', 'bool'];

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /**
   * Also save the training configuration and the optimizer's state (the model must be compiled),
   * so that {@link loadModel} returns a compiled model that resumes training where it stopped.
   * @default false
   */
  includeOptimizer?: boolean;
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Require every weight of the model to be in the files, and no other. @default true */
  strict?: boolean;
}

/**
 * Saves `model` to the folder `dir` (created if needed) as `model.json` plus one weights file,
 * atomically: if the save fails or the process dies part-way, the previous save in `dir` stays
 * intact and loadable. Node only (the `@bnlab/models/node` entry point); in browsers use
 * `model.save('indexeddb://name')`.
 *
 * @example
 * ```ts
 * import { saveModel, loadModel } from '@bnlab/models/node';
 * await saveModel(model, 'runs/cnn-bn');
 * const restored = await loadModel('runs/cnn-bn');
 * ```
 * @throws BnlabError `IO_ERROR` naming the file that could not be written.
 */
export async function saveModel(model: LayersModel, dir: string, options: SaveModelOptions = {}): Promise<io.SaveResult> {
  return model.save(nodeFileHandler(dir), { includeOptimizer: options.includeOptimizer ?? false });
}

/**
 * Loads a model saved by {@link saveModel} (or any tfjs layers model in `model.json` + weights
 * form) from the folder `dir`. Models that use bnlab's normalization layers load without further
 * setup: importing this module registers them.
 *
 * @throws BnlabError `DATA_MISSING` when `dir` holds no model.json or a weights file is missing,
 *   `CHECKSUM_MISMATCH` when a `weights.<hash>.bin` file does not match its name, `DATA_FORMAT`
 *   when model.json, its weights manifest or the weights are malformed, or the model cannot be
 *   rebuilt from its config (an unknown layer class, an invalid layer option): every message names
 *   the file.
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<LayersModel> {
  const files = nodeFileHandler(dir);
  // The handler's own errors name the file they are about; any error after it has read the
  // files comes from rebuilding the model from its config (a tfjs error, or a BnlabError of a
  // bnlab layer's constructor or build), and is about model.json.
  let read = false;
  const handler: io.IOHandler = {
    load: async () => {
      const artifacts = await (files.load as NonNullable<io.IOHandler['load']>)();
      read = true;
      return artifacts;
    },
  };
  const where = join(dir, MODEL_JSON);
  let model: LayersModel;
  try {
    model = await loadLayersModel(handler, { strict: options.strict ?? true });
  } catch (e) {
    if (!read) throw e;
    const message = (e as { message?: unknown } | null)?.message;
    const text = typeof message === 'string' ? message : String(e);
    throw new BnlabError(
      'DATA_FORMAT',
      `loadModel: the model in ${where} cannot be rebuilt: ${text}` +
        (/Unknown (layer|initializer|regularizer|constraint)/.test(text)
          ? ' (a custom class is not registered: import the package that defines it before loading)'
          : ''),
      { where, cause: e },
    );
  }
  const problem = cannotPredict(model);
  if (problem !== undefined) {
    model.dispose();
    throw new BnlabError('DATA_FORMAT', `loadModel: the model in ${where} cannot be rebuilt: ${problem}`, { where });
  }
  return model;
}

/**
 * Why a model tfjs rebuilt from model.json cannot predict, if it cannot. tfjs takes an input's
 * dtype as model.json writes it, and a layer's `activation` as any registered class model.json
 * names (an initializer, a layer): either way the model loaded, and its first prediction failed
 * ("The dtype of the feed (float32) can not be cast …", "shape.forEach is not a function").
 */
function cannotPredict(model: LayersModel): string | undefined {
  const input = model.inputs.find((x) => !INPUT_DTYPES.includes(x.dtype));
  if (input) return `the dtype of its input ${input.name} must be one of ${INPUT_DTYPES.join(', ')}, got ${JSON.stringify(input.dtype)}`;
  // tfjs-layers does not export its activations' base class: it is the parent of its `linear`.
  const linear = serialization.SerializationMap.getMap().classNameMap['linear']?.[0];
  const base: unknown = linear === undefined ? undefined : Object.getPrototypeOf(linear);
  if (typeof base !== 'function') return undefined;
  for (const layer of model.layers) {
    const activation = (layer as { activation?: { getClassName?: () => string } | null }).activation;
    if (activation != null && !(activation instanceof base)) {
      return `the activation of layer ${layer.name} must be an activation function, got ${activation.getClassName?.() ?? typeof activation}`;
    }
  }
  return undefined;
}
