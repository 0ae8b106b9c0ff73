import { readFile } from 'node:fs/promises';
import { BnlabError } from '@bnlab/core';
import type { TrainingRecord } from '@bnlab/core';
import { parseRecordsJson, recordsToJson } from '../export/json.js';
import { writeFileAtomic } from './atomic_write.js';

/** Writes records as JSON ({@link recordsToJson}) atomically. Node only. */
export async function writeRecordsJson(path: string, records: TrainingRecord | readonly TrainingRecord[]): Promise<void> {
  await writeFileAtomic(path, recordsToJson(records));
}

/** Reads a JSON file of records ({@link parseRecordsJson}). Node only. */
export async function readRecordsJson(path: string): Promise<TrainingRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BnlabError('IO_ERROR', `could not read ${path}: ${(e as Error).message}`, { where: path, cause: e });
  }
  return parseRecordsJson(text, path);
}
