import type { BackendName } from '@bnlab/core';
import type { RunEvent } from './events.js';

/** The hidden first argument that makes the `bnlab` entry point a trial worker. */
export const WORKER_ARG = '__bnlab-worker';

/** Parent → worker. */
export type ToWorker =
  | { type: 'init'; file: string; outDir: string; backend: BackendName; threads?: number; offline: boolean }
  | { type: 'run'; id: string }
  | { type: 'stop' }
  | { type: 'exit' };

/** Worker → parent. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'event'; event: RunEvent }
  | { type: 'done'; id: string; status: string }
  | {
      type: 'error';
      message: string;
      /** The trial's result could not be written (a full disk, …): the run cannot go on. */
      writeFailed?: boolean;
    };
