import { initBackend } from '@bnlab/core';
import { relaxedSimdAllowed } from './relaxed_simd.js';
import { winogradAllowed } from './winograd.js';
import { loadExperiment } from '../experiment/load.js';
import { expandTrials } from '../experiment/trials.js';
import type { Trial } from '../experiment/trials.js';
import { ResultsStore } from '../results/store.js';
import { DataCache } from './data.js';
import { collectEnvironment } from './environment.js';
import { runTrial } from './trial_runner.js';
import type { TrialEnvironment } from './trial_runner.js';
import type { FromWorker, ToWorker } from './worker_protocol.js';

/**
 * The body of a worker process of `bnlab run --workers N`: it receives trial ids from the
 * parent, runs them, writes each result file itself (atomically) and reports events back.
 */
export async function workerMain(): Promise<void> {
  // Once the parent has gone, a send fails (ERR_IPC_CHANNEL_CLOSED, EPIPE): with a callback
  // the failure is passed to it instead of thrown as an uncaught 'error'. Nobody is left to tell.
  const send = (m: FromWorker): void => {
    if (process.connected) process.send?.(m, undefined, {}, () => undefined);
  };
  const stop = { requested: false };
  // Ctrl-C reaches every process of the terminal's group: finish the batch, record, stop.
  process.on('SIGINT', () => {
    stop.requested = true;
  });
  // The standard streams are the parent's: when their reader has gone, there is nothing to say.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  let trials = new Map<string, Trial>();
  let store: ResultsStore | null = null;
  let env: TrialEnvironment | null = null;
  /** Why `init` failed: every trial sent afterwards fails with this cause. */
  let initError: string | null = null;
  let queue = Promise.resolve();

  process.on('message', (raw: unknown) => {
    const m = raw as ToWorker;
    queue = queue.then(async () => {
      try {
        if (m.type === 'init') {
          initError = 'the worker process is still starting';
          const experiment = await loadExperiment(m.file);
          trials = new Map(expandTrials(experiment, m.file).map((t) => [t.id, t]));
          store = new ResultsStore(m.outDir);
          const backend = await initBackend({
            backend: m.backend,
            threads: m.threads ?? 1,
            onWarning: () => {},
            relaxedSimd: relaxedSimdAllowed(),
            winograd: winogradAllowed(),
          });
          env = {
            data: new DataCache(m.offline),
            backend,
            stop,
            listener: (event) => send({ type: 'event', event }),
            environment: collectEnvironment(backend),
            checkpoints: m.outDir,
          };
          initError = null;
          send({ type: 'ready' });
        } else if (m.type === 'run') {
          if (!store || !env) throw new Error(`the worker process could not start: ${initError ?? 'it was sent no experiment'}`);
          const trial = trials.get(m.id);
          if (!trial) throw new Error(`worker: unknown trial ${m.id}`);
          const result = await runTrial(trial, env);
          try {
            await store.write(result);
          } catch (e) {
            send({ type: 'error', message: e instanceof Error ? e.message : String(e), writeFailed: true });
            return;
          }
          send({ type: 'done', id: m.id, status: result.record.status });
        } else if (m.type === 'exit') {
          process.disconnect?.();
          process.exit(0);
        }
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (m.type === 'init') initError = message;
        send({ type: 'error', message });
      }
    });
  });
  // 'stop' must act while a trial runs, not after it: it is handled here, outside the queue.
  process.on('message', (raw: unknown) => {
    if ((raw as ToWorker).type === 'stop') stop.requested = true;
  });
  // The parent has gone (it was killed, or crashed): stop as on Ctrl-C — the current trial
  // ends after its batch and is recorded as interrupted, so a rerun resumes it — then exit.
  process.on('disconnect', () => {
    stop.requested = true;
    void queue.finally(() => process.exit(0));
  });
}
