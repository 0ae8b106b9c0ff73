/** Reports progress of a long task (a trial, an epoch, a download) to a person or a log. */
export interface ProgressReporter {
  /** A task of `total` units starts. */
  start(total: number, label?: string): void;
  /** `done` units of the total are done; `info` holds short figures to show (loss, ETA). */
  update(done: number, info?: Record<string, string | number>): void;
  /** The task ended (finished or not). */
  stop(): void;
}

/** A reporter that shows nothing: the default of library code. */
export const silentProgress: ProgressReporter = {
  start() {},
  update() {},
  stop() {},
};
