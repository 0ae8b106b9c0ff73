import { BnlabError } from '@bnlab/core';

/** When a run counts as diverged. */
export interface DivergenceOptions {
  /**
   * Number of classes: the chance-level loss is ln(numClasses), the cross-entropy of a
   * uniform guess. Needed unless `chanceLoss` is given.
   */
  numClasses?: number;
  /** The loss of guessing; overrides ln(numClasses). */
  chanceLoss?: number;
  /**
   * Consecutive batches with a loss above chance level after which the run is called
   * diverged. @default 50
   */
  patience?: number;
  /**
   * Steps at the start not judged by the above-chance rule (a deliberately mis-scaled
   * initialization can start far above chance and recover). NaN is judged from step 0.
   * @default 0
   */
  warmup?: number;
  /** Stop at a NaN or infinite loss. @default true */
  stopOnNonFinite?: boolean;
}

/** What {@link DivergenceDetector.update} found. */
export interface DivergenceVerdict {
  /** What happened: the loss became NaN/infinite, or it stayed above chance level. */
  reason: 'non-finite-loss' | 'above-chance';
  /** The step where the divergence happened: the non-finite loss, or the first step of the run of losses above chance. */
  step: number;
  /** The step at which it was detected. */
  detectedAtStep: number;
  /** A sentence for the record's `error` field. */
  message: string;
}

/**
 * Watches the per-batch loss and says when a run has diverged: a NaN or infinite loss, or a
 * loss above chance level (ln K for K classes) for `patience` batches in a row — worse than
 * guessing, and not coming back.
 */
export class DivergenceDetector {
  /** The loss of a uniform guess; `Infinity` when unknown (then only non-finite losses count). */
  readonly chanceLoss: number;
  /** Batches in a row above chance level that make a divergence. */
  readonly patience: number;
  /** Whether a NaN or infinite loss is a divergence. */
  readonly stopOnNonFinite: boolean;
  /** Steps at the start exempt from the above-chance rule. */
  readonly warmup: number;
  private streakStart = -1;
  private streak = 0;
  private verdict: DivergenceVerdict | undefined;

  constructor(options: DivergenceOptions = {}) {
    const { numClasses, chanceLoss } = options;
    if (chanceLoss !== undefined) {
      if (!(chanceLoss > 0) || !Number.isFinite(chanceLoss)) {
        throw new BnlabError('INVALID_ARGUMENT', `divergence.chanceLoss must be a finite number > 0, got ${chanceLoss}`, {
          where: 'divergence.chanceLoss',
        });
      }
      this.chanceLoss = chanceLoss;
    } else if (numClasses !== undefined) {
      if (!Number.isInteger(numClasses) || numClasses < 2) {
        throw new BnlabError('INVALID_ARGUMENT', `divergence.numClasses must be an integer ≥ 2, got ${numClasses}`, {
          where: 'divergence.numClasses',
        });
      }
      this.chanceLoss = Math.log(numClasses);
    } else {
      this.chanceLoss = Infinity;
    }
    const patience = options.patience ?? 50;
    if (!Number.isInteger(patience) || patience < 1) {
      throw new BnlabError('INVALID_ARGUMENT', `divergence.patience must be an integer ≥ 1, got ${patience}`, {
        where: 'divergence.patience',
      });
    }
    this.patience = patience;
    const warmup = options.warmup ?? 0;
    if (!Number.isInteger(warmup) || warmup < 0) {
      throw new BnlabError('INVALID_ARGUMENT', `divergence.warmup must be an integer ≥ 0, got ${warmup}`, {
        where: 'divergence.warmup',
      });
    }
    this.warmup = warmup;
    this.stopOnNonFinite = options.stopOnNonFinite ?? true;
  }

  /** The verdict once the run has diverged (it does not change afterwards). */
  get diverged(): DivergenceVerdict | undefined {
    return this.verdict;
  }

  /** Feeds the loss of global step `step`; returns the verdict once diverged. */
  update(step: number, loss: number): DivergenceVerdict | undefined {
    if (this.verdict) return this.verdict;
    if (!Number.isFinite(loss)) {
      if (!this.stopOnNonFinite) return undefined;
      this.verdict = {
        reason: 'non-finite-loss',
        step,
        detectedAtStep: step,
        message: `diverged: the loss became ${loss} at step ${step}`,
      };
      return this.verdict;
    }
    if (step >= this.warmup && loss > this.chanceLoss) {
      if (this.streak === 0) this.streakStart = step;
      this.streak++;
      if (this.streak >= this.patience) {
        this.verdict = {
          reason: 'above-chance',
          step: this.streakStart,
          detectedAtStep: step,
          message:
            `diverged: the loss stayed above chance level (${this.chanceLoss.toPrecision(5)}) for ` +
            `${this.patience} batches from step ${this.streakStart} (detected at step ${step})`,
        };
      }
    } else {
      this.streak = 0;
    }
    return this.verdict;
  }
}
