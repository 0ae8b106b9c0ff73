import type { RunLength } from '../experiment/run_length.js';
import type { ScheduleSpec, WarmupSpec } from '../experiment/schedule_schema.js';

/** What a schedule is made from: the optimizer's base rate and legacy decay, and the schedule. */
export interface ScheduleInputs {
  /** The optimizer's `learningRate`. */
  learningRate: number;
  /** Keras's legacy `decay` (constant schedule only): `lr / (1 + decay·step)`. */
  decay?: number | undefined;
  /** @default { type: 'constant' } */
  schedule?: ScheduleSpec | undefined;
}

/** `end + (start − end) · (1 + cos(π·pct)) / 2`: from `start` at pct 0 to `end` at pct 1 (PyTorch's `_annealing_cos`). */
function cosineBetween(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (1 + Math.cos(Math.PI * pct));
}

/** PyTorch's `LinearLR` factor: `startFactor` at step 0, rising linearly to 1 at step `length`, 1 after. */
function warmupFactor(warmup: WarmupSpec, run: RunLength, step: number): number {
  const length = warmup.steps ?? (warmup.epochs as number) * run.batchesPerEpoch;
  return warmup.startFactor + ((1 - warmup.startFactor) * Math.min(step, length)) / length;
}

/**
 * PyTorch's `OneCycleLR` (two phases, cosine annealing): up from `max / divFactor` to `max`
 * at step `pctStart·T − 1`, then down to `max / (divFactor·finalDivFactor)` at step `T − 1`.
 */
function oneCycle(s: Extract<ScheduleSpec, { type: 'onecycle' }>, totalSteps: number, step: number): number {
  const initial = s.maxLearningRate / s.divFactor;
  const final = initial / s.finalDivFactor;
  const peak = s.pctStart * totalSteps - 1;
  const last = totalSteps - 1;
  // A phase of no length (a run of 1/pctStart steps, say) is at its end value; PyTorch divides by zero.
  const pct = (from: number, to: number): number => (to > from ? (step - from) / (to - from) : 1);
  return step <= peak ? cosineBetween(initial, s.maxLearningRate, pct(0, peak)) : cosineBetween(s.maxLearningRate, final, pct(peak, last));
}

/** The schedule's own rate at `step`, before any warmup. */
function scheduledRate(inputs: ScheduleInputs, s: ScheduleSpec, run: RunLength, step: number): number {
  const lr = inputs.learningRate;
  // Counted in epochs, the rate changes at epoch boundaries, as a PyTorch scheduler stepped once an epoch.
  const count = (unit: 'epoch' | 'step'): number => (unit === 'epoch' ? Math.floor(step / run.batchesPerEpoch) : step);
  switch (s.type) {
    case 'constant':
      return lr / (1 + (inputs.decay ?? 0) * step);
    case 'step':
      return lr * s.gamma ** Math.floor(count(s.unit) / s.stepSize);
    case 'multistep': {
      const n = count(s.unit);
      return lr * s.gamma ** s.milestones.filter((m) => m <= n).length;
    }
    case 'cosine':
      return cosineBetween(lr, s.minLearningRate, step / run.steps);
    case 'onecycle':
      return oneCycle(s, run.steps, step);
  }
}

/**
 * The learning rate of every training step of a run (from 0): the schedule's rate (see
 * `scheduleSchema`) times its warmup factor, if any. The schedule counts from the run's first
 * step, warmup or not (PyTorch's `ChainedScheduler` of `LinearLR` and the schedule).
 */
export function learningRateSchedule(inputs: ScheduleInputs, run: RunLength): (step: number) => number {
  const schedule: ScheduleSpec = inputs.schedule ?? { type: 'constant' };
  const warmup = schedule.type === 'onecycle' ? undefined : schedule.warmup;
  return (step) => scheduledRate(inputs, schedule, run, step) * (warmup ? warmupFactor(warmup, run, step) : 1);
}
