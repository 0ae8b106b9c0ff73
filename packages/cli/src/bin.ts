#!/usr/bin/env node
import { main } from './program.js';
import { workerMain } from './run/worker.js';
import { WORKER_ARG } from './run/worker_protocol.js';
import { enableRelaxedSimd } from './run/relaxed_simd.js';

enableRelaxedSimd();

if (process.argv[2] === WORKER_ARG) {
  void workerMain();
} else {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`bnlab: internal error: ${String(e)}\n`);
      process.exitCode = 5;
    },
  );
}
