import { add, dispose, engine, mul, Optimizer, tidy } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { setLearningRate } from './set_learning_rate.js';

type Gradients = Parameters<Optimizer['applyGradients']>[0];
/** A variable's name and its gradient (tfjs's `NamedTensor`, not exported from the package root). */
type NamedTensor = { name: string; tensor: Tensor };

/** How weight decay enters the update. */
export type WeightDecayMode = 'l2' | 'decoupled';

/** Options of a {@link WeightDecayOptimizer}. */
export interface WeightDecayOptions {
  /** The decay factor `wd` (≥ 0). */
  weightDecay: number;
  /** `l2`: `wd · w` added to the gradient; `decoupled`: `lr · wd · w` taken off the weights. */
  mode: WeightDecayMode;
  /** The optimizer's learning rate at the start; later ones come through {@link WeightDecayOptimizer.setLearningRate}. */
  learningRate: number;
  /** Names of the variables left alone (see `weightDecayExclusions`). @default none */
  exclude?: ReadonlySet<string>;
}

/**
 * Weight decay around any tfjs optimizer: the update of `inner`, with every variable that has a
 * gradient (and is not excluded) decayed.
 *
 * - `l2`: the gradient becomes `g + wd · w`, the gradient of the loss plus `wd/2 · ‖w‖²` (PyTorch's
 *   `weight_decay` for SGD, Adam and RMSprop). For SGD, `w ← w − lr · (g + wd · w)`.
 * - `decoupled`: `w ← w − lr · wd · w` besides the inner update `w ← w − lr · u`, `lr` the rate in
 *   force (SGDW and AdamW). As in Loshchilov & Hutter's algorithm and PyTorch's AdamW, the decay
 *   is of the weights before the step: they are scaled by `1 − lr · wd` and then updated, which
 *   is the same because the inner updates depend on the gradients and their own state only.
 *
 * The loss the model reports does not include the L2 term.
 * @see https://arxiv.org/abs/1711.05101 (Decoupled Weight Decay Regularization)
 */
export class WeightDecayOptimizer extends Optimizer {
  static get className(): string {
    return 'bnlab>WeightDecay';
  }

  private rate: number;
  private readonly exclude: ReadonlySet<string>;

  constructor(
    readonly inner: Optimizer,
    private readonly options: WeightDecayOptions,
  ) {
    super();
    this.rate = options.learningRate;
    this.exclude = options.exclude ?? new Set();
  }

  /** The learning rate in force. */
  get learningRate(): number {
    return this.rate;
  }

  /** Sets the inner optimizer's learning rate, which decoupled decay also uses. */
  setLearningRate(rate: number): void {
    this.rate = rate;
    setLearningRate(this.inner, rate);
  }

  override applyGradients(variableGradients: Gradients): void {
    const named: NamedTensor[] = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const { weightDecay, mode } = this.options;
    // A variable without a gradient is not updated, so not decayed either (as in PyTorch).
    const decays = (g: NamedTensor): boolean => weightDecay > 0 && (g.tensor as Tensor | null) != null && !this.exclude.has(g.name);
    if (mode === 'decoupled') {
      const keep = 1 - this.rate * weightDecay;
      for (const g of named.filter(decays)) {
        const w = engine().registeredVariables[g.name]!;
        tidy(() => w.assign(mul(w, keep)));
      }
      this.inner.applyGradients(named);
    } else {
      const added: Tensor[] = [];
      const decayed = named.map((g) => {
        if (!decays(g)) return g;
        const w = engine().registeredVariables[g.name]!;
        const tensor = tidy(() => add(g.tensor, mul(w, weightDecay)));
        added.push(tensor);
        return { name: g.name, tensor };
      });
      try {
        this.inner.applyGradients(decayed);
      } finally {
        dispose(added);
      }
    }
    this.incrementIterations();
  }

  override getConfig() {
    return { ...this.inner.getConfig(), weightDecay: this.options.weightDecay, weightDecayMode: this.options.mode };
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return this.inner.getWeights();
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    await this.inner.setWeights(weightValues);
  }

  override dispose(): void {
    this.inner.dispose();
    super.dispose();
  }
}
