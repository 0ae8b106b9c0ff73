import { layers as tfl, sequential } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Sequential } from '@tensorflow/tfjs-layers';
import { BnlabError, formatValue, isBnlabError, Rng } from '@bnlab/core';
import type { NormalizationSpec, NormPosition } from '@bnlab/core';
import { normalization } from '@bnlab/layers';
import { conv2dLayer } from './conv2d_layer.js';
import { kernelInitializer } from './initializers.js';
import { biasIsRedundant, normApplies } from './placement.js';
import type {
  BlockActivation,
  BlockSpec,
  ConvBlockSpec,
  DenseBlockSpec,
  KernelInitializerSpec,
  OutputActivation,
} from './spec/types.js';

/** The common options with their defaults merged in. */
export interface ResolvedCommonOptions {
  name: string;
  activation: BlockActivation;
  outputActivation: OutputActivation;
  kernelInitializer: KernelInitializerSpec;
  kernelInitializerScale: number;
  keepBias: boolean;
  seed: number | undefined;
}

/** Everything {@link assemble} needs, validated and with defaults merged. */
export interface AssembleArgs {
  /** Prefix of error messages, e.g. `'kerasCnn'`. */
  context: string;
  inputShape: number[];
  numClasses: number;
  norm: NormalizationSpec;
  layers: 'all' | number[];
  position: NormPosition;
  common: ResolvedCommonOptions;
  blocks: BlockSpec[];
}

/** What the assembler decided for one conv/dense block. */
export interface WeightBlock {
  number: number;
  spec: ConvBlockSpec | DenseBlockSpec;
  /** Rank of the block's output, batch axis included. */
  rank: number;
  normalized: boolean;
}

function describe(block: BlockSpec): string {
  switch (block.type) {
    case 'conv':
      return `conv, ${block.filters} filters`;
    case 'dense':
      return `dense, ${block.units} units`;
    case 'maxPool':
    case 'avgPool':
      return block.type;
    case 'dropout':
      return `dropout ${block.rate}`;
    case 'flatten':
      return 'flatten';
  }
}

/**
 * Numbers the conv/dense blocks from 1, works out each one's output rank, and decides which are
 * normalized; throws when `placement.layers` names a block that does not exist or cannot take the norm.
 */
export function planWeightBlocks(args: AssembleArgs): WeightBlock[] {
  const planned: WeightBlock[] = [];
  let rank = args.inputShape.length + 1;
  for (const block of args.blocks) {
    if (block.type === 'flatten') rank = 2;
    else if (block.type === 'dense') {
      rank = 2;
      planned.push({ number: planned.length + 1, spec: block, rank, normalized: false });
    } else if (block.type === 'conv') {
      // A conv needs (and keeps) an image: its output has rank 4 (checked when it is built).
      rank = 4;
      planned.push({ number: planned.length + 1, spec: block, rank, normalized: false });
    }
  }
  const { norm, layers, context } = args;
  if (norm.type === 'none') return planned;
  if (layers === 'all') {
    for (const b of planned) b.normalized = normApplies(norm, b.rank);
    if (!planned.some((b) => b.normalized)) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${context}: \`norm\` (${formatValue(norm)}) applies to no block: ${norm.type} normalization needs a conv block ` +
          '(it normalizes over spatial axes) and this model has none',
        { where: 'norm.type' },
      );
    }
    return planned;
  }
  for (const n of layers) {
    const b = planned[n - 1];
    if (b === undefined) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${context}: \`placement.layers\` (${formatValue(layers)}) must list block numbers from 1 to ${planned.length} ` +
          `(the model has ${planned.length} conv/dense blocks before the classifier)`,
        { where: 'placement.layers' },
      );
    }
    if (!normApplies(norm, b.rank)) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${context}: \`placement.layers\` (${formatValue(layers)}) includes block ${n} (${describe(b.spec)}), but ` +
          `${norm.type} normalization needs a conv block (it normalizes over spatial axes)`,
        { where: 'placement.layers' },
      );
    }
    b.normalized = true;
  }
  return planned;
}

/**
 * Builds a Sequential model from a list of blocks, inserting the normalization where the
 * placement says, and appending the classifier. Layer names say which block they belong to:
 * `block3_conv`, `block3_norm`, `block3_act`, then `pool2`, `flatten1`, `dropout1`, `classifier`.
 */
export function assemble(args: AssembleArgs): Sequential {
  const { context, norm, position, common } = args;
  const plan = planWeightBlocks(args);
  const rng = common.seed === undefined ? null : new Rng(common.seed);
  const nextSeed = (): number | undefined => (rng === null ? undefined : rng.int(2147483647));
  const init = (): ReturnType<typeof kernelInitializer> =>
    kernelInitializer(common.kernelInitializer, common.kernelInitializerScale, nextSeed());

  const model = sequential({ name: common.name });
  let rank = args.inputShape.length + 1;
  let first = true;
  const counters = { pool: 0, dropout: 0, flatten: 0 };
  let pendingNorm: { layer: Layer; block: string } | null = null;

  /** Adds a layer; `field` is the spec field its options come from (for an error's `where`). */
  const add = (layer: Layer, where: string, field?: string): void => {
    try {
      model.add(layer);
    } catch (e) {
      const inputShape = first ? args.inputShape : model.outputs[0]?.shape.slice(1);
      if (isBnlabError(e)) {
        const at = field === undefined ? (e.where ?? where) : e.where === undefined ? field : `${field}.${e.where}`;
        throw new BnlabError(e.code, `${context}: ${where}: ${e.message}`, { where: at, cause: e });
      }
      // tfjs reports shape problems ("negative dimension size …") as a ValueError.
      if ((e as Error | undefined)?.constructor?.name !== 'ValueError') throw e;
      throw new BnlabError(
        'INVALID_SHAPE',
        `${context}: ${where} cannot take an input of shape ${formatValue(inputShape)}: ${(e as Error).message}`,
        { where, cause: e },
      );
    }
    first = false;
  };
  const needImage = (where: string): void => {
    if (rank === 4) return;
    throw new BnlabError(
      'INVALID_SHAPE',
      first
        ? `${context}: \`inputShape\` (${formatValue(args.inputShape)}) must be [height, width, channels]: ${where} needs an image input`
        : `${context}: ${where} needs an image input, but it follows a flattened block`,
      { where: first ? 'inputShape' : 'blocks' },
    );
  };
  const withInput = <T extends object>(layerArgs: T): T =>
    first ? { ...layerArgs, inputShape: args.inputShape } : layerArgs;
  const makeNorm = (blockNumber: number, where: string): Layer => {
    try {
      return normalization(norm, { name: `block${blockNumber}_norm` }) as Layer;
    } catch (e) {
      if (isBnlabError(e)) {
        throw new BnlabError(e.code, `${context}: ${where}: ${e.message}`, {
          where: e.where === undefined ? 'norm' : `norm.${e.where}`,
          cause: e,
        });
      }
      throw e;
    }
  };
  const flatten = (): void => {
    if (rank <= 2) return; // already flat (tfjs's Flatten refuses a 2-D input)
    counters.flatten += 1;
    add(tfl.flatten(withInput({ name: `flatten${counters.flatten}` })), 'flatten');
    rank = 2;
  };

  let weightIndex = 0;
  args.blocks.forEach((block, i) => {
    const next = args.blocks[i + 1];
    switch (block.type) {
      case 'conv':
      case 'dense': {
        const planned = plan[weightIndex++]!;
        const n = planned.number;
        const where = `block ${n} (${describe(block)})`;
        const activation = block.activation ?? common.activation;
        if (block.type === 'conv') needImage(where);
        if (block.type === 'dense' && rank > 2) flatten();
        const normalized = planned.normalized;
        const before = normalized && position === 'before-activation';
        const afterPool =
          normalized && !before && block.type === 'conv' && block.normAfterPool === true && isPool(next);
        const immediate = normalized && (before || (activation === 'linear' && !afterPool));
        const channels = block.type === 'conv' ? block.filters : block.units;
        const useBias = common.keepBias || !(immediate && biasIsRedundant(norm, planned.rank, channels));
        const layerActivation = before ? 'linear' : activation;
        const kernelArgs = { useBias, activation: layerActivation, kernelInitializer: init() };
        if (block.type === 'conv') {
          add(
            conv2dLayer(
              withInput({
                ...kernelArgs,
                name: `block${n}_conv`,
                filters: block.filters,
                kernelSize: block.kernelSize ?? 3,
                strides: block.strides ?? 1,
                padding: block.padding ?? 'valid',
              }),
            ),
            where,
          );
        } else {
          add(tfl.dense(withInput({ ...kernelArgs, name: `block${n}_dense`, units: block.units })), where);
        }
        rank = planned.rank;
        if (!normalized) break;
        const normLayer = makeNorm(n, where);
        if (before) {
          add(normLayer, `${where} normalization`, 'norm');
          add(tfl.activation({ activation, name: `block${n}_act` }), where);
        } else if (afterPool) {
          pendingNorm = { layer: normLayer, block: where };
        } else {
          add(normLayer, `${where} normalization`, 'norm');
        }
        break;
      }
      case 'maxPool':
      case 'avgPool': {
        counters.pool += 1;
        const where = `pool ${counters.pool} (${block.type})`;
        needImage(where);
        const poolSize = block.poolSize ?? 2;
        const poolArgs = withInput({
          name: `pool${counters.pool}`,
          poolSize,
          strides: block.strides ?? poolSize,
          padding: block.padding ?? 'valid',
        });
        add(block.type === 'maxPool' ? tfl.maxPooling2d(poolArgs) : tfl.averagePooling2d(poolArgs), where);
        if (pendingNorm !== null) {
          const p: { layer: Layer; block: string } = pendingNorm;
          add(p.layer, `${p.block} normalization`, 'norm');
          pendingNorm = null;
        }
        break;
      }
      case 'dropout':
        counters.dropout += 1;
        add(
          tfl.dropout(withInput({ name: `dropout${counters.dropout}`, rate: block.rate, seed: nextSeed() })),
          `dropout ${counters.dropout}`,
        );
        break;
      case 'flatten':
        flatten();
        break;
    }
  });
  if (rank > 2) flatten();
  add(
    tfl.dense(
      withInput({
        name: 'classifier',
        units: args.numClasses,
        activation: common.outputActivation,
        kernelInitializer: init(),
      }),
    ),
    'classifier',
  );
  return model;
}

function isPool(block: BlockSpec | undefined): boolean {
  return block !== undefined && (block.type === 'maxPool' || block.type === 'avgPool');
}
