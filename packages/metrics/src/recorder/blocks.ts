import type { Tensor } from '@tensorflow/tfjs-core';
import { model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';

/** A tfjs-layers layer (the class is not exported under a stable name). */
export type AnyLayer = LayersModel['layers'][number];

const MAIN_CLASSES = new Set([
  'Dense',
  'Conv1D',
  'Conv2D',
  'Conv3D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'Conv2DTranspose',
  'Conv3DTranspose',
]);
const ACTIVATION_CLASSES = new Set(['Activation', 'ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'ThresholdedReLU', 'Softmax']);

function className(layer: AnyLayer): string {
  return layer.getClassName();
}

/** True for normalization layers, tfjs's or bnlab's (`BatchNormalization`, `GroupNormalization`, …). */
function isNormalization(layer: AnyLayer): boolean {
  return /Normali[sz]ation$/.test(className(layer));
}

function inlineActivation(layer: AnyLayer): string {
  const a = (layer.getConfig() as { activation?: unknown }).activation;
  return typeof a === 'string' ? a : 'linear';
}

/**
 * One conv/dense block of a model: the conv or dense layer, the normalization and the
 * activation that follow it.
 */
export interface ModelBlock {
  /** The conv or dense layer's name. */
  name: string;
  /** Whether the block starts with a convolution or a dense layer. */
  kind: 'conv' | 'dense';
  /** The conv or dense layer. */
  layer: AnyLayer;
  /** The tensor fed to the block's activation (symbolic), or `inline` when the layer applies its own non-linear activation. */
  preActivation: SymbolicTensor | 'inline';
  /** The last layer of the block: its activation, or a normalization right after it. */
  outputLayer: AnyLayer;
}

/**
 * Finds the conv/dense blocks of a model in layer order. A block starts at a conv or dense
 * layer and takes in the normalization and activation layers that follow it; its
 * pre-activation output is the input of its activation (after normalization placed
 * before the activation).
 */
export function findBlocks(model: LayersModel): ModelBlock[] {
  const layers = model.layers;
  const blocks: ModelBlock[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i] as AnyLayer;
    const cls = className(layer);
    if (!MAIN_CLASSES.has(cls)) continue;
    const kind = cls === 'Dense' ? 'dense' : 'conv';
    if (inlineActivation(layer) !== 'linear') {
      // Conv → act(inline) → maybe norm after the activation.
      let out = layer;
      while (i + 1 < layers.length && isNormalization(layers[i + 1] as AnyLayer)) out = layers[++i] as AnyLayer;
      blocks.push({ name: layer.name, kind, layer, preActivation: 'inline', outputLayer: out });
      continue;
    }
    let pre: SymbolicTensor = layer.output as SymbolicTensor;
    let out = layer;
    let j = i + 1;
    while (j < layers.length) {
      const next = layers[j] as AnyLayer;
      if (isNormalization(next)) {
        pre = next.output as SymbolicTensor;
        out = next;
        j++;
      } else if (ACTIVATION_CLASSES.has(className(next))) {
        pre = next.input as SymbolicTensor;
        out = next;
        j++;
        // A normalization after the activation still belongs to this block.
        while (j < layers.length && isNormalization(layers[j] as AnyLayer)) out = layers[j++] as AnyLayer;
        break;
      } else {
        break;
      }
    }
    blocks.push({ name: layer.name, kind, layer, preActivation: pre, outputLayer: out });
    i = j - 1;
  }
  return blocks;
}

/** The same layer with a linear activation, sharing nothing: refreshed from the original's weights on each use. */
const linearClones = new WeakMap<AnyLayer, AnyLayer>();

function linearClone(layer: AnyLayer): AnyLayer {
  let c = linearClones.get(layer);
  if (!c) {
    const Ctor = layer.constructor as new (args: Record<string, unknown>) => AnyLayer;
    const config: Record<string, unknown> = {
      ...(layer.getConfig() as Record<string, unknown>),
      activation: 'linear',
      name: `${layer.name}_preact`,
    };
    delete config.batchInputShape;
    delete config.inputShape;
    c = new Ctor(config);
    linearClones.set(layer, c);
  }
  return c;
}

/**
 * Computes, for one input batch, the pre-activation outputs of the given blocks (and, with
 * `outputs`, their block outputs), in one forward pass of a sub-model sharing the
 * original's layers. The caller disposes the returned tensors.
 */
export class BlockProbe {
  private readonly sub: LayersModel;
  private readonly plan: Array<{ block: ModelBlock; index: number }>;

  constructor(
    model: LayersModel,
    readonly blocks: readonly ModelBlock[],
    readonly kind: 'preActivation' | 'output',
  ) {
    const outputs: SymbolicTensor[] = [];
    this.plan = blocks.map((block) => {
      let t: SymbolicTensor;
      if (kind === 'output') t = block.outputLayer.output as SymbolicTensor;
      else t = block.preActivation === 'inline' ? (block.layer.input as SymbolicTensor) : block.preActivation;
      outputs.push(t);
      return { block, index: outputs.length - 1 };
    });
    this.sub = functionalModel({ inputs: model.inputs, outputs });
  }

  /** One tensor per block, in order. Runs in training mode when `training` (callers preserve state). */
  run(xs: Tensor, training: boolean): Tensor[] {
    const raw = this.sub.apply(xs, { training }) as Tensor | Tensor[];
    const outs = Array.isArray(raw) ? raw : [raw];
    return this.plan.map(({ block, index }) => {
      const t = outs[index] as Tensor;
      if (this.kind === 'output' || block.preActivation !== 'inline') return t;
      const lin = linearClone(block.layer);
      const y = lin.apply(t) as Tensor; // builds the clone on first use
      lin.setWeights(block.layer.getWeights());
      const fresh = lin.apply(t) as Tensor;
      y.dispose();
      t.dispose();
      return fresh;
    });
  }
}
