import type { EpochRecord, RunStatus } from '@bnlab/core';

/** What a run of an experiment reports as it goes; the CLI shows it as bars, or JSON lines. */
export type RunEvent =
  | { type: 'experiment-start'; name: string; trials: number; toRun: number; skipped: number; workers: number; outDir: string }
  | { type: 'trial-start'; id: string; label: string; seed: number; index: number; totalSteps: number }
  | { type: 'trial-progress'; id: string; step: number; totalSteps: number; loss: number }
  | { type: 'epoch'; id: string; record: EpochRecord }
  | {
      type: 'trial-end';
      id: string;
      label: string;
      seed: number;
      status: RunStatus;
      /** Final test accuracy, inference mode. */
      testAccuracy?: number;
      /** Accuracy on the probe batch with batch statistics (training mode), when recorded. */
      probeTrainingModeAccuracy?: number;
      seconds: number;
      error?: string;
    }
  | { type: 'experiment-end'; completed: number; diverged: number; failed: number; interrupted: number; skipped: number; outDir: string; seconds: number };

/** Receives run events. */
export type RunListener = (event: RunEvent) => void;
