import { layers as tfl, sequential } from '@tensorflow/tfjs-layers';
import type { Sequential } from '@tensorflow/tfjs-layers';
import { BnlabError, formatValue, isBnlabError, Rng } from '@bnlab/core';
import type { NormalizationSpec, NormPosition } from '@bnlab/core';
import { NORMALIZATION_DEFAULTS, normalization } from '@bnlab/layers';
import { conv2dLayer } from './conv2d_layer.js';
import { kernelInitializer } from './initializers.js';
import { biasIsRedundant, normApplies } from './placement.js';
import type { BlockActivation, BlockSpec, ConvBlockSpec, DenseBlockSpec, KernelInitializerSpec, OutputActivation } from './spec/types.js';

type Layer = tfl.Layer;

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
  /**
   * The spec field `blocks` come from when the user wrote them (`'options.blocks'` of a custom
   * model): their per-block options are then checked to take effect. Unset for the named
   * architectures, whose blocks the builder makes.
   */
  blocksField?: string | undefined;
}

/** What the assembler decided for one conv/dense block. */
export interface WeightBlock {
  number: number;
  /** Position of the block in {@link AssembleArgs.blocks}. */
  index: number;
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
 * normalized. Throws `INVALID_CONFIG` naming the field when the spec cannot be built as asked:
 *
 * - `placement.layers` is empty, names a block that does not exist or one the norm is not
 *   defined on, or `'all'` matches no block;
 * - the norm does not fit a normalized block's output, by the rules the `@bnlab/layers` layers
 *   apply when they are built: `norm.axis` (every axis of a layer norm's list) must be an axis
 *   of the output, in `[-rank, rank - 1]`, other than the batch axis 0, and a layer norm's axes
 *   must be distinct once resolved; group norm's `groups` (default 32; −1 is one group per
 *   channel) must divide the channels (conv `filters`, dense `units`). When a group norm's
 *   `axis` is a spatial axis its size is only known from the input, and the layer checks it;
 * - for blocks the user wrote (`blocksField` set), `normAfterPool: true` takes effect on no block
 *   (see `checkNormAfterPool`).
 */
export function planWeightBlocks(args: AssembleArgs): WeightBlock[] {
  const planned: WeightBlock[] = [];
  let rank = args.inputShape.length + 1;
  args.blocks.forEach((block, index) => {
    if (block.type === 'flatten') rank = 2;
    else if (block.type === 'dense') {
      rank = 2;
      planned.push({ number: planned.length + 1, index, spec: block, rank, normalized: false });
    } else if (block.type === 'conv') {
      // A conv needs (and keeps) an image: its output has rank 4 (checked when it is built).
      rank = 4;
      planned.push({ number: planned.length + 1, index, spec: block, rank, normalized: false });
    }
  });
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
  } else {
    if (layers.length === 0) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${context}: \`placement.layers\` ([]) must list at least one block number, from 1 to ${planned.length}; ` +
          "for a model without normalization use `norm: { type: 'none' }`",
        { where: 'placement.layers' },
      );
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
  }
  const hint = layers === 'all' ? '; list the blocks it suits in `placement.layers`' : '';
  for (const b of planned) {
    if (!b.normalized) continue;
    const channels = b.spec.type === 'conv' ? b.spec.filters : b.spec.units;
    checkNormFits(context, norm, { name: `block ${b.number} (${describe(b.spec)})`, rank: b.rank, channels }, hint);
  }
  checkNormAfterPool(args, planned);
  return planned;
}

/** A layer output a normalization is to be built on, for {@link checkNormFits}. */
export interface NormTarget {
  /** How error messages name it, e.g. `block 2 (conv, 64 filters)`. */
  name: string;
  /** Rank of the output, batch axis included. */
  rank: number;
  /** Size of its last axis (filters or units). */
  channels: number;
}

/**
 * Checks that `norm` can be built on the output `target`, by the rules of the `@bnlab/layers`
 * layers' `build` (their `resolveAxis`, LayerNormalization's distinct axes,
 * GroupNormalization's divisibility), so that a spec `validateModelSpec` passes also builds.
 * `hint` ends the message (advice on the placement, or '').
 */
export function checkNormFits(context: string, norm: Exclude<NormalizationSpec, { type: 'none' }>, target: NormTarget, hint: string): void {
  const rank = target.rank;
  const block = `${target.name}, whose output has rank ${rank} (batch axis included)`;
  const given = norm.axis;
  const shownAxis = given === undefined ? `${NORMALIZATION_DEFAULTS[norm.type].axis}, the default` : formatValue(given);
  const axes = given === undefined ? [NORMALIZATION_DEFAULTS[norm.type].axis] : Array.isArray(given) ? given : [given];
  const what = Array.isArray(given) ? 'only name axes' : 'be';
  const resolved: number[] = [];
  for (const a of axes) {
    if (a < -rank || a >= rank) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${context}: \`norm.axis\` (${shownAxis}) must ${what} in [${-rank}, ${rank - 1}] for ${block}${hint}`,
        { where: 'norm.axis' },
      );
    }
    const r = a < 0 ? a + rank : a;
    if (r === 0) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${context}: \`norm.axis\` (${shownAxis}) must not name the batch axis 0, but for ${block}, ` + `axis ${a} is axis 0${hint}`,
        { where: 'norm.axis' },
      );
    }
    resolved.push(r);
  }
  if (new Set(resolved).size !== resolved.length) {
    throw new BnlabError(
      'INVALID_CONFIG',
      `${context}: \`norm.axis\` (${shownAxis}) must name distinct axes, but for ${block}, they are ` +
        `${formatValue(resolved)}, which repeats one`,
      { where: 'norm.axis' },
    );
  }
  if (norm.type !== 'group' || resolved[0] !== rank - 1) return;
  // Channels last: the group count must divide the block's filters or units.
  const groups = norm.groups ?? NORMALIZATION_DEFAULTS.group.groups;
  const channels = target.channels;
  if (groups === -1 || channels % groups === 0) return;
  const shownGroups = norm.groups === undefined ? `${groups}, the default` : formatValue(groups);
  throw new BnlabError(
    'INVALID_CONFIG',
    `${context}: \`norm.groups\` (${shownGroups}) must divide the number of channels of every normalized block, ` +
      `but ${target.name} has ${channels} (-1 means one group per channel)`,
    { where: 'norm.groups' },
  );
}

/**
 * `normAfterPool: true` on a user's conv block moves its normalization past the pooling block
 * right after it, which takes effect only when the block is normalized, `placement.position` is
 * `'after-activation'` and the next block is a `maxPool` or `avgPool`. Throws when that holds
 * for none of the blocks that set it (the option would do nothing); blocks where it holds for
 * some and not others are left as they are. Skipped for `norm: { type: 'none' }`, which ignores
 * the placement.
 */
function checkNormAfterPool(args: AssembleArgs, planned: WeightBlock[]): void {
  const { blocksField, norm, position, layers, context } = args;
  if (blocksField === undefined || norm.type === 'none') return;
  const flagged = planned.filter((b) => b.spec.type === 'conv' && b.spec.normAfterPool === true);
  const first = flagged[0];
  if (first === undefined) return;
  const applies = (b: WeightBlock): boolean => b.normalized && position === 'after-activation' && isPool(args.blocks[b.index + 1]);
  if (flagged.some(applies)) return;
  const field = `${blocksField}[${first.index}].normAfterPool`;
  const others =
    flagged.length > 1
      ? ` (nor does it on block ${flagged
          .slice(1)
          .map((b) => b.number)
          .join(', ')}, which set it too)`
      : '';
  let reason: string;
  if (position !== 'after-activation') {
    reason = `\`placement.position\` is '${position}'`;
  } else {
    reason = flagged
      .map((b) => {
        const name = `block ${b.number} (${describe(b.spec)})`;
        if (!b.normalized) return `${name} is not normalized (\`placement.layers\` is ${formatValue(layers)})`;
        const next = args.blocks[b.index + 1];
        return next === undefined
          ? `${name} is the last block before the classifier`
          : `${name} is followed by ${describe(next)}, not by a maxPool or avgPool block`;
      })
      .join('; ');
  }
  throw new BnlabError(
    'INVALID_CONFIG',
    `${context}: \`${field}\` (true) has no effect${others}: it moves the norm of a normalized conv ` +
      `block past the pool block right after it, with \`placement.position\` 'after-activation' only, but ${reason}`,
    { where: field },
  );
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
    const inputShape = first ? args.inputShape : model.outputs[0]?.shape.slice(1);
    try {
      model.add(layer);
    } catch (e) {
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
    // tfjs lets a pooling layer shrink a side to 0 (a 1×1 input, 2×2 'valid' pooling): the model
    // would build, and compute nothing.
    const outputShape = model.outputs[0]?.shape.slice(1);
    if (outputShape?.some((d) => d === 0)) {
      throw new BnlabError(
        'INVALID_SHAPE',
        `${context}: ${where} cannot take an input of shape ${formatValue(inputShape)}: its output would have ` +
          `shape ${formatValue(outputShape)}, which is empty`,
        { where },
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
  const withInput = <T extends object>(layerArgs: T): T => (first ? { ...layerArgs, inputShape: args.inputShape } : layerArgs);
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
        const afterPool = normalized && !before && block.type === 'conv' && block.normAfterPool === true && isPool(next);
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
