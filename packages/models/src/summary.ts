import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { LayerVariable } from '@tensorflow/tfjs-layers';

/** One row of a {@link ModelSummary}. */
export interface LayerSummary {
  /** The layer's name, e.g. `block1_conv`. */
  name: string;
  /** The layer's class, e.g. `Conv2D`, `BatchNormalization`. */
  className: string;
  /** Output shape, `null` for the batch dimension (a list of shapes for a multi-output layer). */
  outputShape: (number | null)[] | (number | null)[][];
  /** Number of trainable parameters (kernels, biases, gamma, beta). */
  trainableParams: number;
  /**
   * Number of non-trainable parameters: Keras counts batch norm's moving mean and variance here.
   * PyTorch keeps them as buffers, which its parameter count leaves out, so a PyTorch model's
   * `sum(p.numel() for p in m.parameters())` equals {@link ModelSummary.trainableParams}.
   */
  nonTrainableParams: number;
}

/** A model described as data, like Keras's `model.summary()` but returned rather than printed. */
export interface ModelSummary {
  name: string;
  layers: LayerSummary[];
  trainableParams: number;
  nonTrainableParams: number;
  totalParams: number;
}

function count(weights: LayerVariable[]): number {
  return weights.reduce((sum, w) => sum + w.shape.reduce((p: number, d) => p * (d ?? 0), 1), 0);
}

/**
 * Describes `model` layer by layer: name, class, output shape, trainable and non-trainable
 * parameter counts, and the totals. The counts are Keras's (batch norm's moving statistics are
 * non-trainable parameters); a layer frozen with `trainable = false` counts all its weights as
 * non-trainable.
 *
 * @example
 * ```ts
 * const s = summary(kerasCnn({ norm: { type: 'batch' } }));
 * s.trainableParams;    // 93546
 * s.nonTrainableParams; // 448
 * ```
 */
export function summary(model: LayersModel): ModelSummary {
  const layers = model.layers.map((layer) => ({
    name: layer.name,
    className: layer.getClassName(),
    outputShape: JSON.parse(JSON.stringify(layer.outputShape)) as LayerSummary['outputShape'],
    trainableParams: count(layer.trainableWeights),
    nonTrainableParams: count(layer.nonTrainableWeights),
  }));
  const trainableParams = layers.reduce((s, l) => s + l.trainableParams, 0);
  const nonTrainableParams = layers.reduce((s, l) => s + l.nonTrainableParams, 0);
  return {
    name: model.name,
    layers,
    trainableParams,
    nonTrainableParams,
    totalParams: trainableParams + nonTrainableParams,
  };
}

/**
 * A {@link ModelSummary} as a fixed-width text table, for a CLI or an example to print.
 */
export function formatSummary(s: ModelSummary): string {
  const shape = (o: LayerSummary['outputShape']): string => JSON.stringify(o).replace(/null/g, 'None');
  const rows = [
    ['Layer', 'Class', 'Output shape', 'Trainable', 'Non-trainable'],
    ...s.layers.map((l) => [l.name, l.className, shape(l.outputShape), String(l.trainableParams), String(l.nonTrainableParams)]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string =>
    r
      .map((cell, c) => (c >= 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  return [
    `Model: ${s.name}`,
    line(rows[0]!),
    rule,
    ...rows.slice(1).map(line),
    rule,
    `Total params: ${s.totalParams} (trainable ${s.trainableParams}, non-trainable ${s.nonTrainableParams})`,
  ].join('\n');
}
