import type { TrainingRecord } from '@bnlab/core';
import { batchesToCsv, epochsToCsv, type CsvOptions } from '../export/csv.js';
import { writeFileAtomic } from './atomic_write.js';

/** Writes {@link epochsToCsv} to `path` atomically. Node only. */
export async function writeEpochsCsv(
  path: string,
  records: TrainingRecord | readonly TrainingRecord[],
  options?: CsvOptions,
): Promise<void> {
  await writeFileAtomic(path, epochsToCsv(records, options));
}

/** Writes {@link batchesToCsv} to `path` atomically. Node only. */
export async function writeBatchesCsv(
  path: string,
  records: TrainingRecord | readonly TrainingRecord[],
  options?: CsvOptions,
): Promise<void> {
  await writeFileAtomic(path, batchesToCsv(records, options));
}
