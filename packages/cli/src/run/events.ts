import type { EpochRecord, RunStatus } from '@bnlab/core';

/** What a run of an experiment reports as it goes; the CLI shows it as bars, or JSON lines. */
export type RunEvent =
  | {
      type: 'experiment-start';
      name: string;
      trials: number;
      toRun: number;
      skipped: number;
      workers: number;
      threads: number;
      outDir: string;
    }
  | { type: 'trial-start'; id: string; label: string; seed: number; index: number; totalSteps: number }
  /** The trial goes on from its checkpoint: the first epoch it runs (from 0) and the steps already done. */
  | { type: 'trial-resume'; id: string; epoch: number; step: number }
  /** A checkpoint could not be read (the trial starts over) or written (the trial goes on without it). */
  | { type: 'checkpoint-problem'; id: string; message: string }
  | { type: 'trial-progress'; id: string; step: number; totalSteps: number; loss: number }
  | { type: 'epoch'; id: string; record: EpochRecord }
  | {
      type: 'trial-end';
      id: string;
      label: string;
      seed: number;
      status: RunStatus;
      /** Final test accuracy, inference mode (for batch norm with the statistics `evaluation.batchNormStatistics` says). */
      testAccuracy?: number;
      /** Batch norm only: which statistics `testAccuracy` used, and the final test accuracy with the moving averages and with batch statistics. */
      batchNorm?: { statistics: 'moving' | 'precise'; movingTestAccuracy: number; batchStatisticsTestAccuracy?: number };
      seconds: number;
      error?: string;
    }
  | {
      type: 'experiment-end';
      completed: number;
      diverged: number;
      failed: number;
      interrupted: number;
      skipped: number;
      outDir: string;
      seconds: number;
    };

/** Receives run events. */
export type RunListener = (event: RunEvent) => void;
