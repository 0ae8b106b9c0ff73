/**
 * `@bnlab/cli`: the `bnlab` command that runs normalization experiments end to end, and
 * its parts as a library: experiment files (validated, with an exported JSON Schema), grid
 * expansion and sharding, the trial runner, results folders and reports.
 *
 * @packageDocumentation
 */
export { main } from './program.js';
export type { CliIo } from './program.js';
export { EXIT, exitCodeFor } from './exit_codes.js';
export { experimentSchema, trialFieldsSchema, experimentJsonSchema, DATASET_NAMES, ARCHITECTURES, OPTIMIZERS } from './experiment/schema.js';
export type { Experiment, ExperimentInput, TrialFields } from './experiment/schema.js';
export { loadExperiment, parseExperiment } from './experiment/load.js';
export { expandTrials, parseShard, selectShard, canonicalJson } from './experiment/trials.js';
export type { Trial } from './experiment/trials.js';
export { runExperiment } from './run/experiment_runner.js';
export type { RunExperimentOptions, RunSummary } from './run/experiment_runner.js';
export { runTrial } from './run/trial_runner.js';
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
