import type { ScheduleSpec } from './schedule_schema.js';

/** The fields of `training` that say how long a run is and how its rate is scheduled. */
export interface ScheduledTraining {
  epochs?: number | undefined;
  steps?: number | undefined;
  batchSize: number;
  schedule?: ScheduleSpec | undefined;
}

/** A schedule that does not fit its run: where (below `training`) and why. */
export interface ScheduleProblem {
  path: Array<string | number>;
  message: string;
}

/** The run's length in one unit, and how the file says it. */
interface Measure {
  value: number;
  text: string;
}

/**
 * Where a schedule's milestones, step size or warmup do not fit the run: a milestone or step
 * size at or after its end (it would never take effect), a warmup longer than the run. What
 * the file says in one unit is compared with the run's length in the same unit; across units
 * (epochs against `training.steps`, steps against `training.epochs`) only when the training
 * split's size is given — at load time for built-in datasets, when the trial starts otherwise.
 * Says nothing when `epochs` and `steps` are not exactly one (that is reported on its own).
 */
export function scheduleProblems(training: ScheduledTraining, trainExamples?: number): ScheduleProblem[] {
  const { schedule, epochs, steps, batchSize } = training;
  if (!schedule || (epochs === undefined) === (steps === undefined)) return [];
  const batches = trainExamples === undefined ? undefined : Math.ceil(trainExamples / batchSize);
  const perEpoch =
    batches === undefined ? '' : `${batches} batches an epoch: ${trainExamples} training examples in batches of ${batchSize}`;
  const length = (unit: 'epoch' | 'step'): Measure | undefined => {
    if (unit === 'epoch') {
      if (epochs !== undefined) return { value: epochs, text: `${epochs} epochs (training.epochs)` };
      if (batches === undefined) return undefined;
      const value = Math.ceil((steps as number) / batches);
      return { value, text: `${value} epochs (training.steps ${steps}, ${perEpoch})` };
    }
    if (steps !== undefined) return { value: steps, text: `${steps} steps (training.steps)` };
    if (batches === undefined) return undefined;
    const value = (epochs as number) * batches;
    return { value, text: `${value} steps (training.epochs ${epochs} × ${perEpoch})` };
  };
  const problems: ScheduleProblem[] = [];
  if (schedule.type === 'step') {
    const run = length(schedule.unit);
    if (run && schedule.stepSize >= run.value) {
      problems.push({
        path: ['schedule', 'stepSize'],
        message: `must be less than the run's ${run.text}, or the rate never decays; got ${schedule.stepSize}`,
      });
    }
  }
  if (schedule.type === 'multistep') {
    const run = length(schedule.unit);
    const i = run ? schedule.milestones.findIndex((m) => m >= run.value) : -1;
    if (run && i >= 0) {
      problems.push({
        path: ['schedule', 'milestones', i],
        message: `must be less than the run's ${run.text}, or it never takes effect; got ${schedule.milestones[i]}`,
      });
    }
  }
  const warmup = schedule.type === 'onecycle' ? undefined : schedule.warmup;
  if (warmup?.steps !== undefined) {
    const run = length('step');
    if (run && warmup.steps > run.value) {
      problems.push({ path: ['schedule', 'warmup', 'steps'], message: `must be at most the run's ${run.text}; got ${warmup.steps}` });
    }
  }
  if (warmup?.epochs !== undefined) {
    if (epochs !== undefined && warmup.epochs > epochs) {
      problems.push({
        path: ['schedule', 'warmup', 'epochs'],
        message: `must be at most the run's ${epochs} epochs (training.epochs); got ${warmup.epochs}`,
      });
    }
    // Against training.steps in steps: the run's last epoch may be cut short.
    if (steps !== undefined && batches !== undefined && warmup.epochs * batches > steps) {
      problems.push({
        path: ['schedule', 'warmup', 'epochs'],
        message:
          `${warmup.epochs} epochs are ${warmup.epochs * batches} steps (${perEpoch}), more than the run's ${steps} steps (training.steps); ` +
          (steps >= batches ? `use at most ${Math.floor(steps / batches)} epochs, or warmup.steps` : `use warmup.steps (at most ${steps})`),
      });
    }
  }
  return problems;
}
