import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { BnlabError, isBnlabError } from '@bnlab/core';
import type { BackendName } from '@bnlab/core';
import type { Trial } from '../experiment/trials.js';
import type { ResultsStore } from '../results/store.js';
import type { RunListener } from './events.js';
import { failedRecord } from './failed_record.js';
import { WORKER_ARG } from './worker_protocol.js';
import type { FromWorker, ToWorker } from './worker_protocol.js';

/** Options of {@link runTrialsInWorkers}. */
export interface WorkerPoolOptions {
  workers: number;
  /** The script whose entry point turns into a worker when given {@link WORKER_ARG}. */
  entry: string;
  file: string;
  outDir: string;
  backend: BackendName;
  /** Threads for bnlab's kernels in each worker. @default 1 */
  threads?: number;
  offline: boolean;
  listener: RunListener;
  stop: { requested: boolean; onRequest?: () => void };
}

/**
 * Runs trials in parallel worker processes (one trial per process at a time, as many
 * processes as `workers`). Each worker writes its trial files; a worker that dies takes
 * only its current trial down (recorded as failed) and is replaced. A trial file that cannot
 * be written (by a worker, or here) stops the run: the workers stop after their current batch,
 * and the write error is thrown once they have exited.
 */
export async function runTrialsInWorkers(
  trials: readonly Trial[],
  store: ResultsStore,
  o: WorkerPoolOptions,
): Promise<Map<string, string>> {
  const pending = [...trials];
  const statuses = new Map<string, string>();
  const live = new Set<ChildProcess>();
  const byId = new Map(trials.map((t) => [t.id, t]));
  /** Failed records being written: all land (or fail) before this function returns. */
  const writes: Promise<void>[] = [];
  /** The first write error: the run stops, and it is thrown at the end. */
  let writeError: BnlabError | null = null;

  await new Promise<void>((resolveAll) => {
    const maybeFinish = (): void => {
      if (live.size === 0) resolveAll();
    };
    const stopWorkers = (): void => {
      // A worker whose channel has already closed (it is exiting) needs no message.
      for (const c of live) if (c.connected) c.send({ type: 'stop' } satisfies ToWorker);
    };
    o.stop.onRequest = stopWorkers;
    const writeFailed = (e: unknown): void => {
      if (writeError) return;
      writeError = isBnlabError(e) ? e : new BnlabError('IO_ERROR', e instanceof Error ? e.message : String(e), { cause: e });
      stopWorkers();
    };
    /** Writes a failed record; a write error stops the run instead of escaping. */
    const recordFailureSafely = (id: string, message: string): Promise<void> => {
      const write = recordFailure(id, message).catch(writeFailed);
      writes.push(write);
      return write;
    };
    const start = (): void => {
      const child = fork(o.entry, [WORKER_ARG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      live.add(child);
      let current: string | null = null;
      const next = (): void => {
        const trial = o.stop.requested || writeError ? undefined : pending.shift();
        if (!trial) {
          current = null;
          child.send({ type: 'exit' } satisfies ToWorker);
          return;
        }
        current = trial.id;
        child.send({ type: 'run', id: trial.id } satisfies ToWorker);
      };
      child.on('message', (raw: unknown) => {
        const m = raw as FromWorker;
        if (m.type === 'ready') next();
        else if (m.type === 'event') o.listener(m.event);
        else if (m.type === 'done') {
          statuses.set(m.id, m.status);
          next();
        } else if (m.type === 'error') {
          // A result the worker could not write is not a failed trial: the trial keeps the
          // record it had, and the run stops.
          if (m.writeFailed) writeFailed(new BnlabError('IO_ERROR', m.message));
          else if (current) void recordFailureSafely(current, m.message);
          next();
        }
      });
      child.on('exit', (code, signal) => {
        live.delete(child);
        if (current && !statuses.has(current)) {
          void recordFailureSafely(current, `worker process exited (${signal ?? `code ${code}`}) during the trial`).then(() => {
            if (pending.length && !o.stop.requested && !writeError) start();
            maybeFinish();
          });
          return;
        }
        maybeFinish();
      });
      child.send({
        type: 'init',
        file: o.file,
        outDir: o.outDir,
        backend: o.backend,
        threads: o.threads ?? 1,
        offline: o.offline,
      } satisfies ToWorker);
    };
    const recordFailure = async (id: string, message: string): Promise<void> => {
      const trial = byId.get(id);
      if (!trial) return;
      const record = failedRecord(trial, message);
      statuses.set(id, 'failed');
      if (await store.write({ trial, record })) {
        o.listener({ type: 'trial-end', id, label: trial.variantLabel, seed: trial.seed, status: 'failed', seconds: 0, error: message });
      } else {
        // The worker had written a finished result before it went: that result stands.
        statuses.set(id, (await store.read(id))?.record.status ?? 'completed');
      }
    };
    const n = Math.max(1, Math.min(o.workers, pending.length));
    if (pending.length === 0) resolveAll();
    for (let i = 0; i < n; i++) start();
  });
  await Promise.all(writes);
  if (writeError) throw writeError;
  return statuses;
}
