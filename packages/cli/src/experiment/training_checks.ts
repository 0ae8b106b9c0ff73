import { formatValue } from '@bnlab/core';
import { scheduleProblems } from './schedule_checks.js';
import type { ScheduledTraining } from './schedule_checks.js';

/** The fields of `training` checked together, as the schema has parsed them. */
export interface TrainingToCheck extends ScheduledTraining {
  optimizer: {
    name: string;
    learningRate: number;
    momentum?: number | undefined;
    nesterov?: boolean | undefined;
    decay?: number | undefined;
    weightDecay?: number | undefined;
    weightDecayMode?: string | undefined;
    weightDecayExclude?: readonly string[] | undefined;
  };
}

/** The part of zod's refinement context used here. */
interface IssueSink {
  addIssue(issue: { code: 'custom'; path: Array<string | number>; message: string }): void;
}

/**
 * The rules of `training` that tie fields together, checked when the file loads: exactly one
 * of `epochs` and `steps`; `nesterov` only for SGD with a momentum; the weight-decay options
 * only with a `weightDecay`; the legacy `decay` only with the constant schedule; a schedule
 * that fits the run as far as the file alone tells ({@link scheduleProblems}).
 */
export function checkTraining(training: TrainingToCheck, ctx: IssueSink): void {
  const issue = (path: Array<string | number>, message: string): void => ctx.addIssue({ code: 'custom', path, message });
  const { epochs, steps, optimizer, schedule } = training;
  if (epochs !== undefined && steps !== undefined) {
    issue(['steps'], `give one of epochs and steps, not both; got epochs ${epochs} and steps ${steps}`);
  } else if (epochs === undefined && steps === undefined) {
    issue([], 'give how long to train: epochs, or steps');
  }
  if (optimizer.nesterov) {
    if (optimizer.name !== 'sgd') {
      issue(['optimizer', 'nesterov'], `is for sgd only, not ${formatValue(optimizer.name)}`);
    } else if (!optimizer.momentum) {
      issue(
        ['optimizer', 'nesterov'],
        `needs a momentum above 0 (Nesterov's is a momentum method); got momentum ${formatValue(optimizer.momentum)}`,
      );
    }
  }
  if (optimizer.weightDecay === undefined) {
    for (const key of ['weightDecayMode', 'weightDecayExclude'] as const) {
      if (optimizer[key] !== undefined)
        issue(['optimizer', key], `has no effect without optimizer.weightDecay; give weightDecay too, or remove ${key}`);
    }
  }
  if (optimizer.decay !== undefined && schedule && schedule.type !== 'constant') {
    issue(['optimizer', 'decay'], `is Keras's legacy schedule and training.schedule is ${formatValue(schedule.type)}; give one of them`);
  }
  if (schedule?.type === 'cosine' && schedule.minLearningRate > optimizer.learningRate) {
    issue(
      ['schedule', 'minLearningRate'],
      `must be at most optimizer.learningRate (${optimizer.learningRate}), the rate the run anneals from; got ${schedule.minLearningRate}`,
    );
  }
  for (const p of scheduleProblems(training)) issue(p.path, p.message);
}
