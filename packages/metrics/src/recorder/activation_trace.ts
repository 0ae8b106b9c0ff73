import type { ActivationTrace } from '@bnlab/core';
import { BnlabError } from '@bnlab/core';
import { dispose, gather, reshape, tidy, type Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { BlockProbe, findBlocks, type ModelBlock } from './blocks.js';
import { preservingState } from './evaluate.js';

/** What {@link ActivationTracer} traces, and how often. */
export interface ActivationTraceOptions {
  /** The examples the percentiles are taken over (for example 1,000 test images), batch first. */
  xs: Tensor;
  /**
   * The block traced: its conv/dense layer's name, or its position among the model's conv/dense
   * blocks, 1 for the first and negative from the end (-1 is the last block, usually the
   * output layer). @default -2, the last block before the output (the last hidden layer)
   */
  block?: string | number;
  /** Units (the last axis of the block's pre-activation: dense units or conv channels). @default [0] */
  units?: number[];
  /** Percentiles in [0, 100], linearly interpolated between order statistics (NumPy's default). @default [15, 50, 85] */
  percentiles?: number[];
  /** Measure before training and after every `every` steps. @default 100 */
  every?: number;
  /** How error messages name these options. @default 'activationTrace' */
  name?: string;
  /**
   * Run the model in training mode (batch statistics over `xs`, moving statistics left as they
   * were) instead of inference mode. @default false
   */
  training?: boolean;
}

/**
 * The `p`th percentiles of `sorted` (ascending): the value at rank `p / 100 × (n − 1)`,
 * interpolated linearly between the neighbouring order statistics. All NaN when a value is not
 * finite (a run that blew up): no percentile of such a set means anything.
 */
export function percentilesOfSorted(sorted: ArrayLike<number>, percentiles: readonly number[]): number[] {
  const n = sorted.length;
  if (n === 0) throw new BnlabError('INVALID_ARGUMENT', 'percentiles of an empty set of values', { where: 'values' });
  // Sorted ascending, NaN last: the ends say whether every value is finite.
  if (!Number.isFinite(sorted[0] as number) || !Number.isFinite(sorted[n - 1] as number)) return percentiles.map(() => NaN);
  return percentiles.map((p) => {
    const rank = (p / 100) * (n - 1);
    const lo = Math.floor(rank);
    const hi = Math.min(n - 1, lo + 1);
    const a = sorted[lo] as number;
    const b = sorted[hi] as number;
    return a + (b - a) * (rank - lo);
  });
}

/** Throws INVALID_CONFIG naming option `field` of the options called `name`. */
function invalidOption(name: string): (field: string, message: string) => never {
  return (field, message) => {
    throw new BnlabError('INVALID_CONFIG', `${name}.${field}: ${message}`, { where: `${name}.${field}` });
  };
}

/** The block `spec` names among `blocks`. */
function chooseBlock(blocks: readonly ModelBlock[], spec: string | number, invalid: (field: string, message: string) => never): ModelBlock {
  const names = blocks.map((b) => b.name);
  if (blocks.length === 0) invalid('block', 'the model has no conv or dense block to trace');
  if (typeof spec === 'string') {
    const found = blocks.find((b) => b.name === spec);
    if (!found) invalid('block', `no conv or dense block is named ${JSON.stringify(spec)}; the blocks are ${names.join(', ')}`);
    return found;
  }
  if (!Number.isInteger(spec) || spec === 0) invalid('block', `expected a layer name or a non-zero integer position, got ${spec}`);
  // -2 on a one-block model is that block: there is no hidden layer to prefer.
  const index = spec > 0 ? spec - 1 : blocks.length === 1 && spec === -2 ? 0 : blocks.length + spec;
  const found = blocks[index];
  if (!found) invalid('block', `position ${spec} is outside the model's ${blocks.length} conv/dense blocks (${names.join(', ')})`);
  return found;
}

/**
 * Traces the percentiles of some units' pre-activation inputs of one block of a model over a
 * fixed set of examples while it trains: {@link measure} appends one measurement, at a step.
 * The options are checked against the model when the tracer is made.
 */
export class ActivationTracer {
  readonly every: number;
  private readonly probe: BlockProbe;
  private readonly units: number[];
  private readonly percentiles: number[];
  private readonly training: boolean;
  readonly traces: ActivationTrace[];

  constructor(
    private readonly model: LayersModel,
    private readonly options: ActivationTraceOptions,
  ) {
    const invalid = invalidOption(options.name ?? 'activationTrace');
    const block = chooseBlock(findBlocks(model), options.block ?? -2, invalid);
    this.units = options.units ?? [0];
    this.percentiles = options.percentiles ?? [15, 50, 85];
    this.every = options.every ?? 100;
    this.training = options.training ?? false;
    if (!Number.isInteger(this.every) || this.every < 1) invalid('every', `expected an integer ≥ 1, got ${this.every}`);
    if (this.percentiles.length === 0) invalid('percentiles', 'expected at least one percentile');
    for (const p of this.percentiles) if (!(p >= 0 && p <= 100)) invalid('percentiles', `expected values in [0, 100], got ${p}`);
    this.probe = new BlockProbe(model, [block], 'preActivation');
    const shape = preActivationShape(block);
    const width = shape?.[shape.length - 1];
    if (this.units.length === 0) invalid('units', 'expected at least one unit');
    if (new Set(this.units).size !== this.units.length)
      invalid('units', `unit ${this.units.find((u, i) => this.units.indexOf(u) !== i)} is listed twice`);
    for (const u of this.units) {
      if (!Number.isInteger(u) || u < 0 || (typeof width === 'number' && u >= width)) {
        invalid(
          'units',
          `unit ${u} is not one of block ${block.name}'s ${width ?? '?'} units (0 to ${typeof width === 'number' ? width - 1 : '?'})`,
        );
      }
    }
    if (options.xs.shape[0] === 0) invalid('xs', 'expected at least one example');
    this.traces = this.units.map((unit) => ({ block: block.name, unit, percentiles: [...this.percentiles], steps: [], values: [] }));
  }

  /** Takes over the traces of a saved record of the run (resuming it); they must trace the same block and units. */
  resume(saved: readonly ActivationTrace[] | undefined): void {
    if (!saved) return;
    for (const t of this.traces) {
      const s = saved.find((x) => x.block === t.block && x.unit === t.unit && x.percentiles.join() === t.percentiles.join());
      if (!s) continue;
      t.steps = [...s.steps];
      t.values = s.values.map((v) => [...v]);
    }
  }

  /** True when a measurement is due after `stepsDone` weight updates. */
  due(stepsDone: number): boolean {
    return stepsDone % this.every === 0 && !this.traces.some((t) => t.steps[t.steps.length - 1] === stepsDone);
  }

  /** Measures every traced unit's percentiles now, as the state after `stepsDone` updates. */
  async measure(stepsDone: number): Promise<void> {
    const run = async (): Promise<void> => {
      const [pre] = this.probe.run(this.options.xs, this.training);
      const columns = tidy(() => {
        const t = pre as Tensor;
        const flat = reshape(t, [-1, t.shape[t.shape.length - 1] as number]);
        return this.units.map((u) => reshape(gather(flat, [u], 1), [-1]));
      });
      dispose(pre);
      try {
        for (let k = 0; k < columns.length; k++) {
          const values = Float32Array.from(await (columns[k] as Tensor).data()).sort();
          const trace = this.traces[k] as ActivationTrace;
          trace.steps.push(stepsDone);
          trace.values.push(percentilesOfSorted(values, this.percentiles));
        }
      } finally {
        dispose(columns);
      }
    };
    await (this.training ? preservingState(this.model, run) : run());
  }
}

/** The symbolic shape of a block's pre-activation (the layer's output: a linear clone keeps it). */
function preActivationShape(block: ModelBlock): (number | null)[] | undefined {
  const t = block.preActivation === 'inline' ? block.layer.output : block.preActivation;
  const shape = (Array.isArray(t) ? t[0] : t)?.shape;
  return shape as (number | null)[] | undefined;
}
