import { BnlabError } from '@bnlab/core';
import type { TrainingRecord } from '@bnlab/core';
import { RECORD_VERSION, validateTrainingRecord } from '../record/record.js';

/** The `format` tag of the JSON files {@link recordsToJson} writes. */
export const RECORDS_JSON_FORMAT = 'bnlab-training-records';

/** The JSON document {@link recordsToJson} writes. */
export interface RecordsDocument {
  /** Always {@link RECORDS_JSON_FORMAT}. */
  format: typeof RECORDS_JSON_FORMAT;
  /** Schema version of the records. */
  version: number;
  /** The runs. */
  records: TrainingRecord[];
}

/**
 * A `JSON.stringify` replacer for values that hold NaN or infinite numbers (JSON has neither:
 * `JSON.stringify` would write `null`): writes them as the strings "NaN", "Infinity",
 * "-Infinity", which {@link validateTrainingRecord} (with `decodeNonFinite`) reads back.
 */
export function encodeNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/**
 * The full records of one or more runs as a versioned JSON document
 * (`{ format: 'bnlab-training-records', version: 1, records: [...] }`). NaN and infinite
 * numbers — the loss of a diverged run — are written as the strings `"NaN"`, `"Infinity"`,
 * `"-Infinity"` and read back as numbers by {@link parseRecordsJson}.
 */
export function recordsToJson(records: TrainingRecord | readonly TrainingRecord[], space = 2): string {
  const list = Array.isArray(records) ? (records as readonly TrainingRecord[]) : [records as TrainingRecord];
  list.forEach((r, i) => validateTrainingRecord(r, `records[${i}]`, false));
  const doc: RecordsDocument = { format: RECORDS_JSON_FORMAT, version: RECORD_VERSION, records: [...list] };
  return JSON.stringify(doc, encodeNonFinite, space) + '\n';
}

/**
 * Reads records from JSON written by {@link recordsToJson} (or a single bare record),
 * checking every field. Throws a `DATA_FORMAT` {@link BnlabError} naming the source and the
 * field at fault.
 *
 * @param source how the text is named in error messages (a file name). @default 'JSON'
 */
export function parseRecordsJson(text: string, source = 'JSON'): TrainingRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BnlabError('DATA_FORMAT', `${source} is not valid JSON: ${(e as Error).message}`, { where: source, cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BnlabError('DATA_FORMAT', `${source} must hold a JSON object, got ${Array.isArray(value) ? 'an array' : String(value)}`, {
      where: source,
    });
  }
  const doc = value as Partial<RecordsDocument> & Record<string, unknown>;
  if (doc.format === undefined && 'runId' in doc) return [validateTrainingRecord(doc, source)];
  if (doc.format !== RECORDS_JSON_FORMAT) {
    throw new BnlabError('DATA_FORMAT', `${source}: format must be '${RECORDS_JSON_FORMAT}', got ${JSON.stringify(doc.format)}`, {
      where: `${source}.format`,
    });
  }
  if (typeof doc.version !== 'number' || doc.version > RECORD_VERSION || doc.version < 1) {
    throw new BnlabError(
      'DATA_FORMAT',
      `${source}: version must be between 1 and ${RECORD_VERSION} (this @bnlab/metrics reads up to ${RECORD_VERSION}), got ${JSON.stringify(doc.version)}`,
      { where: `${source}.version` },
    );
  }
  if (!Array.isArray(doc.records)) {
    throw new BnlabError('DATA_FORMAT', `${source}: records must be an array`, { where: `${source}.records` });
  }
  return doc.records.map((r, i) => validateTrainingRecord(r, `${source}: records[${i}]`));
}
