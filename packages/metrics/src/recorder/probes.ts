import {
  cast,
  dispose,
  mean,
  moments,
  sqrt,
  sum,
  square,
  tidy,
  variableGrads,
  type Scalar,
  type Tensor,
  type Variable,
} from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { extraKeys } from '../record/record.js';
import { BlockProbe, findBlocks } from './blocks.js';
import { preservingState, type LabelledTensors, type LossFunction } from './evaluate.js';

/** Mean and standard deviation (divisor N) of one block's pre-activation outputs. */
export interface ActivationStats {
  /** The block's conv or dense layer name. */
  block: string;
  /** Mean over all elements (batch, space, channels). */
  mean: number;
  /** Standard deviation over all elements. */
  std: number;
}

/**
 * Mean and standard deviation of the pre-activation outputs of every conv/dense block of
 * `model` on one probe batch — the "internal covariate shift" view. In training mode by
 * default (batch statistics, what the next layer sees while training); the model's
 * moving statistics are left as they were.
 */
export async function activationStats(model: LayersModel, xs: Tensor, training = true): Promise<ActivationStats[]> {
  const probe = probeFor(model);
  if (probe.blocks.length === 0) return [];
  const compute = async (): Promise<ActivationStats[]> => {
    const outs = probe.run(xs, training);
    const stats = tidy(() =>
      outs.map((t) => {
        const m = moments(t);
        return [m.mean, sqrt(m.variance)] as [Tensor, Tensor];
      }),
    );
    dispose(outs);
    const values = await Promise.all(stats.map(async ([m, s]) => [(await m.data())[0], (await s.data())[0]]));
    dispose(stats.flat());
    return probe.blocks.map((b, i) => ({ block: b.name, mean: values[i]?.[0] as number, std: values[i]?.[1] as number }));
  };
  return training ? preservingState(model, compute) : compute();
}

const probes = new WeakMap<LayersModel, BlockProbe>();

function probeFor(model: LayersModel): BlockProbe {
  let p = probes.get(model);
  if (!p) {
    p = new BlockProbe(model, findBlocks(model), 'preActivation');
    probes.set(model, p);
  }
  return p;
}

/** L2 norms of the loss gradient on one batch, per layer and in total. */
export interface GradientNorms {
  /** Layer name → L2 norm of the gradients of all its trainable weights. */
  perLayer: Record<string, number>;
  /** L2 norm of all the gradients together. */
  total: number;
}

/**
 * The L2 norm of the gradient of the (mean) loss on one batch with respect to each layer's
 * trainable weights, computed in training mode without changing the model (weights and
 * moving statistics are left as they were).
 */
export async function gradientNorms(model: LayersModel, batch: LabelledTensors, loss: LossFunction): Promise<GradientNorms> {
  return preservingState(model, async () => {
    const owners: string[] = [];
    const vars: Variable[] = [];
    for (const layer of model.layers) {
      for (const w of layer.trainableWeights) {
        owners.push(layer.name);
        vars.push(w.read() as Variable);
      }
    }
    if (vars.length === 0) return { perLayer: {}, total: 0 };
    const { value, grads } = variableGrads(
      () =>
        tidy(() => {
          const ys = batch.ys.dtype === 'float32' ? batch.ys : cast(batch.ys, 'float32');
          return mean(loss(ys, model.apply(batch.xs, { training: true }) as Tensor)) as Scalar;
        }),
      vars,
    );
    const squares = tidy(() => vars.map((v) => sum(square(grads[v.name] as Tensor))));
    const sq = await Promise.all(squares.map(async (s) => (await s.data())[0] as number));
    dispose([value, ...Object.values(grads), ...squares]);
    const perLayerSq: Record<string, number> = {};
    sq.forEach((s, i) => {
      const o = owners[i] as string;
      perLayerSq[o] = (perLayerSq[o] ?? 0) + s;
    });
    const perLayer: Record<string, number> = {};
    for (const [k, s] of Object.entries(perLayerSq)) perLayer[k] = Math.sqrt(s);
    return { perLayer, total: Math.sqrt(sq.reduce((a, b) => a + b, 0)) };
  });
}

/** Puts activation statistics into an epoch's `extra` under {@link extraKeys}. */
export function activationStatsToExtra(stats: readonly ActivationStats[], extra: Record<string, number>): void {
  for (const s of stats) {
    extra[extraKeys.activationMean(s.block)] = s.mean;
    extra[extraKeys.activationStd(s.block)] = s.std;
  }
}

/** Puts gradient norms into an epoch's `extra` under {@link extraKeys}. */
export function gradientNormsToExtra(norms: GradientNorms, extra: Record<string, number>): void {
  for (const [layer, n] of Object.entries(norms.perLayer)) extra[extraKeys.gradNorm(layer)] = n;
  extra[extraKeys.gradNormTotal] = norms.total;
}

/** The values of one block's activations on a batch. */
export interface BlockActivations {
  /** The block's conv or dense layer name. */
  block: string;
  /** Shape of the block's output, batch first. */
  shape: number[];
  /** The values, row-major in `shape`. */
  values: Float32Array;
}

/** Options of {@link blockActivations}. */
export interface BlockActivationsOptions {
  /** Pre-activation outputs (what normalization acts on) or block outputs. @default 'output' */
  kind?: 'preActivation' | 'output';
  /** Only the conv blocks, only the dense blocks, or all. @default 'all' */
  blocks?: 'conv' | 'dense' | 'all';
  /** Only the first `limit` matching blocks. @default all of them */
  limit?: number;
  /** Training mode (batch statistics); the model's state is preserved. @default false */
  training?: boolean;
}

/**
 * The activations of the conv/dense blocks of `model` on the batch `xs`, for histograms
 * and feature-map pictures.
 */
export async function blockActivations(model: LayersModel, xs: Tensor, options: BlockActivationsOptions = {}): Promise<BlockActivations[]> {
  const which = options.blocks ?? 'all';
  let blocks = findBlocks(model).filter((b) => which === 'all' || b.kind === which);
  if (options.limit !== undefined) blocks = blocks.slice(0, options.limit);
  if (blocks.length === 0) return [];
  const probe = new BlockProbe(model, blocks, options.kind ?? 'output');
  const training = options.training ?? false;
  const compute = async (): Promise<BlockActivations[]> => {
    const outs = probe.run(xs, training);
    const result = await Promise.all(
      outs.map(async (t, i) => ({ block: blocks[i]!.name, shape: t.shape.slice(), values: (await t.data()) as Float32Array })),
    );
    dispose(outs);
    return result;
  };
  return training ? preservingState(model, compute) : compute();
}
