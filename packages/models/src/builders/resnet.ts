import { input, layers as tfl, model } from '@tensorflow/tfjs-layers';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { BnlabError, formatValue, isBnlabError, Rng } from '@bnlab/core';
import { normalization } from '@bnlab/layers';
import { conv2dLayer } from '../conv2d_layer.js';
import { kernelInitializer } from '../initializers.js';
import { biasIsRedundant } from '../placement.js';
import type { BuilderSpec, ResNetOptions } from '../spec/types.js';
import { zeroPadShortcut } from '../zero_pad_shortcut.js';
import { resolveSpec } from './resolve.js';
import { planResNet } from './resnet_plan.js';
import type { ResNetPlan } from './resnet_plan.js';

/**
 * The CIFAR ResNets of He et al. (2016): a 3×3 stem convolution of `widths[0]` channels, three
 * stages of n basic blocks (two 3×3 convolutions each) of `widths` 16, 32 and 64 channels, the
 * first block of stages 2 and 3 with stride 2, global average pooling, and a dense classifier:
 * depth 6n + 2 weight layers (ResNet-20, -32, -44, -56, -110; any n ≥ 1).
 *
 * - Blocks: conv → norm → act → conv → norm, add the shortcut, act; with
 *   `options.preActivation`, He et al.'s identity-mapping blocks (norm → act → conv, norm → act
 *   → conv, add) and a final norm → act before the pooling. The first block of each stage then
 *   feeds its shortcut from its first norm → act, as the paper does after the stem.
 * - Shortcuts: the identity, never normalized, wherever the block's input and output shapes
 *   agree; elsewhere `options.shortcut` `'A'` ({@link ZeroPadShortcut}: subsample, append zero
 *   channels; no parameters) or `'B'` (a 1×1 convolution with the block's stride, followed by
 *   its own norm in classic blocks; in pre-activation blocks it reads the block's normalized
 *   input, and its output, like every branch's, is normalized by the next block's first norm).
 * - Normalization: `norm` after every convolution as above (`placement` can only be its
 *   defaults, `layers: 'all'` and `position: 'before-activation'`; other values are an
 *   error). `norm: { type: 'none' }` builds the plain network. `options.zeroInitLastNorm` sets
 *   `gamma` of each branch's last norm to 0 (Goyal et al., 2017).
 * - Biases: a convolution has none where the normalization its output reaches makes a
 *   per-channel bias redundant ({@link biasIsRedundant}: batch and instance norm; every
 *   convolution of a classic block is followed by a norm, and in pre-activation blocks every
 *   branch output reaches the rest of the network only through the next norm); with
 *   `norm: { type: 'none' }`, layer norm across channels, or `options.keepBias` they keep it.
 * - Kernels: `options.kernelInitializer` `'heNormal'` by default (tfjs's variance scaling,
 *   scale 2, fan in, truncated normal: the Keras initializer, close to the paper's He et al.
 *   2015 normal init).
 * - Strided 3×3 convolutions pad one pixel on every side (a ZeroPadding2D layer
 *   `…_conv1_pad`, then `'valid'`), as the paper's code does, so that their taps centre on
 *   the pixels both shortcuts keep (rows and columns 0, 2, 4, …); tfjs's `'same'` would pad
 *   only the bottom and right of an even-sized input.
 *
 * Layers are named `stem_conv`, `stage2_block1_conv1`, `stage2_block1_norm1`, …,
 * `stage2_block1_shortcut` (A) or `stage2_block1_proj_conv` (B), `stage2_block1_add`,
 * `stage2_block1_out` (classic), `final_norm` (pre-activation), `pool`, `classifier`.
 * ResNet-20 with batch norm and shortcut A has 269,722 trainable parameters (the paper's 0.27M).
 *
 * @example
 * ```ts
 * const model = resnet({ norm: { type: 'batch' }, options: { depth: 56 } });
 * const v2 = resnet({ norm: { type: 'group', groups: 8 }, options: { preActivation: true, shortcut: 'B' } });
 * ```
 * @see https://arxiv.org/abs/1512.03385 (He, Zhang, Ren & Sun, 2016, section 4.2)
 * @see https://arxiv.org/abs/1603.05027 (He, Zhang, Ren & Sun, 2016, identity mappings)
 * @see https://arxiv.org/abs/1706.02677 (Goyal et al., 2017, zero-initialized gamma)
 * @throws BnlabError `INVALID_CONFIG` naming the field when the spec is invalid.
 */
export function resnet(spec: BuilderSpec<ResNetOptions> = {}): LayersModel {
  return buildResNet(planResNet(resolveSpec<ResNetOptions>('resnet', spec)));
}

const CONTEXT = 'resnet';

/** Builds the functional model a checked {@link ResNetPlan} describes. */
export function buildResNet(p: ResNetPlan): LayersModel {
  const { norm, common } = p;
  const rng = common.seed === undefined ? null : new Rng(common.seed);
  const nextSeed = (): number | undefined => (rng === null ? undefined : rng.int(2147483647));
  const init = (): ReturnType<typeof kernelInitializer> =>
    kernelInitializer(common.kernelInitializer, common.kernelInitializerScale, nextSeed());

  const apply = (layer: tfl.Layer, x: SymbolicTensor | SymbolicTensor[], where: string, field?: string): SymbolicTensor => {
    try {
      return layer.apply(x) as SymbolicTensor;
    } catch (e) {
      if (isBnlabError(e)) {
        const at = field === undefined ? e.where : e.where === undefined ? field : `${field}.${e.where}`;
        throw new BnlabError(e.code, `${CONTEXT}: ${where}: ${e.message}`, { where: at, cause: e });
      }
      // tfjs reports shape problems ("negative dimension size …") as a ValueError.
      if ((e as Error | undefined)?.constructor?.name !== 'ValueError') throw e;
      const shape = Array.isArray(x) ? x.map((t) => t.shape) : x.shape;
      throw new BnlabError(
        'INVALID_SHAPE',
        `${CONTEXT}: ${where} cannot take an input of shape ${formatValue(shape)}: ${(e as Error).message}`,
        { where, cause: e },
      );
    }
  };

  const conv = (x: SymbolicTensor, name: string, filters: number, kernelSize: number, strides: number, where: string): SymbolicTensor => {
    let source = x;
    // Pad strided kernels symmetrically by hand (see the docstring); stride 1 'same' already is.
    const symmetric = strides > 1 && kernelSize > 1;
    if (symmetric) {
      const side = (kernelSize - 1) / 2;
      source = apply(tfl.zeroPadding2d({ name: `${name}_pad`, padding: side }), x, where);
    }
    const layer = conv2dLayer({
      name,
      filters,
      kernelSize,
      strides,
      padding: symmetric || kernelSize === 1 ? 'valid' : 'same',
      useBias: common.keepBias || !biasIsRedundant(norm, 4, filters),
      kernelInitializer: init(),
    });
    return apply(layer, source, where);
  };
  const normed = (x: SymbolicTensor, name: string, where: string, zeroGamma = false): SymbolicTensor => {
    if (norm.type === 'none') return x;
    let layer: tfl.Layer;
    try {
      layer = normalization(norm, { name, ...(zeroGamma ? { gammaInitializer: 'zeros' as const } : {}) }) as tfl.Layer;
    } catch (e) {
      if (!isBnlabError(e)) throw e;
      throw new BnlabError(e.code, `${CONTEXT}: ${where}: ${e.message}`, {
        where: e.where === undefined ? 'norm' : `norm.${e.where}`,
        cause: e,
      });
    }
    return apply(layer, x, `${where} normalization`, 'norm');
  };
  const act = (x: SymbolicTensor, name: string, where: string): SymbolicTensor =>
    apply(tfl.activation({ activation: common.activation, name }), x, where);

  /** The shortcut of a block from `source` (`cin` channels) to `cout` channels at `stride`. */
  const shortcut = (source: SymbolicTensor, prefix: string, cin: number, cout: number, stride: number, where: string): SymbolicTensor => {
    if (stride === 1 && cin === cout) return source;
    if (p.shortcut === 'A') {
      return apply(zeroPadShortcut({ name: `${prefix}_shortcut`, strides: stride, channels: cout }), source, `${where} shortcut`);
    }
    const projected = conv(source, `${prefix}_proj_conv`, cout, 1, stride, `${where} shortcut`);
    return p.preActivation ? projected : normed(projected, `${prefix}_proj_norm`, `${where} shortcut`);
  };

  const inputs = input({ shape: p.inputShape, name: 'input' });
  let x = conv(inputs, 'stem_conv', p.widths[0], 3, 1, 'the stem');
  if (!p.preActivation) x = act(normed(x, 'stem_norm', 'the stem'), 'stem_act', 'the stem');
  let channels = p.widths[0];
  p.widths.forEach((width, s) => {
    for (let b = 1; b <= p.blocksPerStage; b++) {
      const prefix = `stage${s + 1}_block${b}`;
      const where = `stage ${s + 1} block ${b}`;
      const stride = s > 0 && b === 1 ? 2 : 1;
      if (p.preActivation) {
        const h = act(normed(x, `${prefix}_norm1`, where), `${prefix}_act1`, where);
        let y = conv(h, `${prefix}_conv1`, width, 3, stride, where);
        y = act(normed(y, `${prefix}_norm2`, where, p.zeroInitLastNorm), `${prefix}_act2`, where);
        y = conv(y, `${prefix}_conv2`, width, 3, 1, where);
        // A stage's first block shares its pre-activation with the shortcut (He et al. 2016b).
        const sc = shortcut(b === 1 ? h : x, prefix, channels, width, stride, where);
        x = apply(tfl.add({ name: `${prefix}_add` }), [y, sc], where);
      } else {
        let y = conv(x, `${prefix}_conv1`, width, 3, stride, where);
        y = act(normed(y, `${prefix}_norm1`, where), `${prefix}_act1`, where);
        y = conv(y, `${prefix}_conv2`, width, 3, 1, where);
        y = normed(y, `${prefix}_norm2`, where, p.zeroInitLastNorm);
        const sc = shortcut(x, prefix, channels, width, stride, where);
        x = act(apply(tfl.add({ name: `${prefix}_add` }), [y, sc], where), `${prefix}_out`, where);
      }
      channels = width;
    }
  });
  if (p.preActivation) x = act(normed(x, 'final_norm', 'the final normalization'), 'final_act', 'the final normalization');
  x = apply(tfl.globalAveragePooling2d({ name: 'pool' }), x, 'the pooling');
  const outputs = apply(
    tfl.dense({ name: 'classifier', units: p.numClasses, activation: common.outputActivation, kernelInitializer: init() }),
    x,
    'classifier',
  );
  return model({ inputs, outputs, name: common.name });
}
