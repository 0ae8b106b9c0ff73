import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { BnlabError } from '@bnlab/core';
import type { BackendName } from '@bnlab/core';
import { loadExperiment } from '../experiment/load.js';
import { countTrials, expandTrials, selectShard } from '../experiment/trials.js';
import { buildResultsReport } from '../results/report.js';
import { ResultsStore } from '../results/store.js';
import { checkDataSources } from './data.js';
import type { RunListener } from './events.js';
import { runTrialsHere } from './local_runner.js';
import { runTrialsInWorkers } from './worker_pool.js';

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  file: string;
  /** Results folder. @default `results/<experiment name>` */
  outDir?: string;
  /** Parallel worker processes. @default 1 (in this process) */
  workers?: number;
  /**
   * Threads for bnlab's kernels in each worker (`initBackend`'s `threads`), or `'auto'`: the
   * machine's cores (`os.availableParallelism()`) divided among the workers, at least 1.
   * @default 1
   */
  threads?: number | 'auto';
  /** Run only shard `index` of `count` (0 ≤ index < count). */
  shard?: { index: number; count: number };
  /** Largest number of trials run without `yes`. @default 100 */
  maxTrials?: number;
  yes?: boolean;
  backend?: BackendName;
  /** Never download: use local data only. @default true */
  offline?: boolean;
  /** Script that becomes a worker with the worker argument. @default the running script */
  workerEntry?: string;
  listener: RunListener;
  /** Shared stop flag: set `requested` (e.g. on Ctrl-C) to stop after the current batches. */
  stop?: { requested: boolean; onRequest?: () => void };
  /** Skip the report (for shards that `bnlab merge` will report). @default false */
  noReport?: boolean;
}

/** The machine's cores shared among `workers` processes: threads for each, at least 1. */
export function autoThreads(workers: number): number {
  return Math.max(1, Math.floor(availableParallelism() / Math.max(1, workers)));
}

/** Counts of a run of an experiment. */
export interface RunSummary {
  outDir: string;
  trials: number;
  completed: number;
  diverged: number;
  failed: number;
  interrupted: number;
  skipped: number;
  report?: string;
}

/**
 * Runs an experiment file: expands it into trials, skips those already finished in the
 * results folder, runs the rest (here or in worker processes), writes each trial's result as
 * it ends, and rebuilds the report.
 */
export async function runExperiment(o: RunExperimentOptions): Promise<RunSummary> {
  const started = performance.now();
  const experiment = await loadExperiment(o.file);
  // Counted before the trials are built and validated, which takes a while for a large grid.
  const count = countTrials(experiment, o.file);
  const myCount = o.shard ? Math.max(0, Math.ceil((count - o.shard.index) / o.shard.count)) : count;
  const max = o.maxTrials ?? 100;
  if (myCount > max && !o.yes) {
    throw new BnlabError(
      'INVALID_ARGUMENT',
      `${o.file}: the experiment expands to ${myCount} trials, more than the limit of ${max}; ` +
        `rerun with --yes to run them all, or shrink the grid or seeds`,
      { where: o.file },
    );
  }
  const all = expandTrials(experiment, o.file);
  const mine = o.shard ? selectShard(all, o.shard) : all;
  await checkDataSources(mine, o.file);
  const outDir = resolve(o.outDir ?? `results/${experiment.name}`);
  const store = new ResultsStore(outDir);
  await store.init(experiment);
  const todo = [];
  for (const t of mine) if (!(await store.isFinished(t.id))) todo.push(t);
  const workers = Math.max(1, Math.min(o.workers ?? 1, todo.length || 1));
  const threads = o.threads === 'auto' ? autoThreads(workers) : (o.threads ?? 1);
  const stop = o.stop ?? { requested: false };
  o.listener({
    type: 'experiment-start',
    name: experiment.name,
    trials: mine.length,
    toRun: todo.length,
    skipped: mine.length - todo.length,
    workers,
    threads,
    outDir,
  });

  if (workers === 1) {
    await runTrialsHere(todo, store, { backend: o.backend ?? 'wasm', threads, offline: o.offline ?? true, listener: o.listener, stop });
  } else {
    await runTrialsInWorkers(todo, store, {
      workers,
      entry: o.workerEntry ?? (process.argv[1] as string),
      file: resolve(o.file),
      outDir,
      backend: o.backend ?? 'wasm',
      threads,
      offline: o.offline ?? true,
      listener: o.listener,
      stop,
    });
  }

  const summary: RunSummary = {
    outDir,
    trials: mine.length,
    completed: 0,
    diverged: 0,
    failed: 0,
    interrupted: 0,
    skipped: mine.length - todo.length,
  };
  for (const t of todo) {
    const status = (await store.read(t.id))?.record.status;
    if (status === 'completed' || status === 'diverged' || status === 'failed') summary[status]++;
    else summary.interrupted++; // stopped before it ran, or while it ran: the next run redoes it
  }
  if (!o.noReport && (await store.all()).length > 0) summary.report = (await buildResultsReport(outDir)).html;
  o.listener({
    type: 'experiment-end',
    completed: summary.completed,
    diverged: summary.diverged,
    failed: summary.failed,
    interrupted: summary.interrupted,
    skipped: summary.skipped,
    outDir,
    seconds: (performance.now() - started) / 1000,
  });
  return summary;
}
