import type { BnlabErrorCode } from '@bnlab/core';

/**
 * Exit codes of the `bnlab` command, stable for scripts:
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success: every trial finished (completed or diverged — a diverged run is a result) |
 * | 1 | some trials failed (their error is recorded; the others ran); for `merge`, some trials are missing or unfinished in the shards |
 * | 2 | bad usage or an invalid experiment file |
 * | 3 | dataset files missing, corrupt or unreadable; or a results folder (or file) missing or in the wrong format |
 * | 4 | a file or folder could not be read or written |
 * | 5 | internal error (a bug: please report it with `--debug` output) |
 * | 130 | interrupted (Ctrl-C); rerun the same command to resume |
 */
export const EXIT = {
  ok: 0,
  trialsFailed: 1,
  usage: 2,
  dataMissing: 3,
  io: 4,
  internal: 5,
  interrupted: 130,
} as const;

/** The exit code for an error code. */
export function exitCodeFor(code: BnlabErrorCode): number {
  switch (code) {
    case 'INVALID_ARGUMENT':
    case 'INVALID_CONFIG':
    case 'INVALID_SHAPE':
      return EXIT.usage;
    case 'DATA_MISSING':
    case 'CHECKSUM_MISMATCH':
    case 'DOWNLOAD_FAILED':
    case 'DATA_FORMAT':
      return EXIT.dataMissing;
    case 'IO_ERROR':
      return EXIT.io;
    case 'INTERRUPTED':
      return EXIT.interrupted;
    default:
      return EXIT.internal;
  }
}
