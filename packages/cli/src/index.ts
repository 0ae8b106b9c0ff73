/**
 * `@bnlab/cli`: the `bnlab` command that runs normalization experiments end to end, and
 * its parts as a library: experiment files (validated, with an exported JSON Schema), grid
 * expansion and sharding, the trial runner (with its weight-decay optimizer wrapper and
 * learning-rate schedules), results folders and reports.
 *
 * @packageDocumentation
 */
export { main } from './program.js';
export type { CliIo } from './program.js';
export { EXIT, exitCodeFor } from './exit_codes.js';
export {
  experimentSchema,
  trialFieldsSchema,
  experimentJsonSchema,
  DATASET_NAMES,
  ARCHITECTURES,
  OPTIMIZERS,
} from './experiment/schema.js';
export type { Experiment, ExperimentInput, TrialFields } from './experiment/schema.js';
export { loadExperiment, parseExperiment } from './experiment/load.js';
export { expandTrials, parseShard, selectShard, canonicalJson } from './experiment/trials.js';
export type { Trial } from './experiment/trials.js';
export { runExperiment } from './run/experiment_runner.js';
export type { RunExperimentOptions, RunSummary } from './run/experiment_runner.js';
export { runTrial } from './run/trial_runner.js';
export { WeightDecayOptimizer } from './run/weight_decay_optimizer.js';
export type { WeightDecayMode, WeightDecayOptions } from './run/weight_decay_optimizer.js';
export { weightDecayExclusions } from './run/weight_decay_exclusions.js';
export type { WeightDecayExclude } from './run/weight_decay_exclusions.js';
export { learningRateSchedule } from './run/learning_rate_schedule.js';
export type { ScheduleInputs } from './run/learning_rate_schedule.js';
export { runLength } from './experiment/run_length.js';
export type { RunLength } from './experiment/run_length.js';
export { scheduleSchema, SCHEDULE_TYPES, SCHEDULE_DEFAULTS } from './experiment/schedule_schema.js';
export type { ScheduleSpec, WarmupSpec } from './experiment/schedule_schema.js';
export { DataCache } from './run/data.js';
export type { TrialData } from './run/data.js';
export type { TrialEnvironment } from './run/trial_runner.js';
export type { RunEvent, RunListener } from './run/events.js';
export { createOutput } from './run/output.js';
export type { OutputMode } from './run/output.js';
export { ResultsStore } from './results/store.js';
export type { TrialResult } from './results/store.js';
export { buildResultsReport } from './results/report.js';
export { mergeResults } from './results/merge.js';
export { datasetStatus, fetchDataset } from './commands/datasets.js';
export type { DatasetStatus } from './commands/datasets.js';
