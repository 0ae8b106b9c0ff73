import { initBackend } from '@bnlab/core';
import { relaxedSimdAllowed } from './relaxed_simd.js';
import { winogradAllowed } from './winograd.js';
import type { BackendName } from '@bnlab/core';
import type { Trial } from '../experiment/trials.js';
import type { ResultsStore, TrialResult } from '../results/store.js';
import { DataCache } from './data.js';
import type { RunListener } from './events.js';
import { runTrial } from './trial_runner.js';
import { collectEnvironment } from './environment.js';

/** Runs trials one after another in this process, writing each result as it ends. */
export async function runTrialsHere(
  trials: readonly Trial[],
  store: ResultsStore,
  options: { backend: BackendName; threads?: number; offline: boolean; listener: RunListener; stop: { requested: boolean } },
): Promise<TrialResult[]> {
  const backend = await initBackend({
    backend: options.backend,
    threads: options.threads ?? 1,
    onWarning: () => {},
    relaxedSimd: relaxedSimdAllowed(),
    winograd: winogradAllowed(),
  });
  const env = {
    data: new DataCache(options.offline),
    backend,
    listener: options.listener,
    stop: options.stop,
    environment: collectEnvironment(backend),
    checkpoints: store.dir,
  };
  const results: TrialResult[] = [];
  for (const trial of trials) {
    if (options.stop.requested) break;
    const result = await runTrial(trial, env);
    await store.write(result);
    results.push(result);
  }
  return results;
}
