import { readFile } from 'node:fs/promises';
import { BnlabError } from '@bnlab/core';
import { configError } from './errors.js';
import { checkJsonShape } from './json_shape.js';
import { experimentSchema } from './schema.js';
import type { Experiment } from './schema.js';

/** Validates an experiment object; `file` names it in errors. */
export function parseExperiment(input: unknown, file = 'experiment'): Experiment {
  checkJsonShape(input, file);
  const result = experimentSchema.safeParse(input);
  if (!result.success) throw configError(file, result.error.issues, input, experimentSchema);
  return result.data;
}

/** Reads and validates an experiment file. */
export async function loadExperiment(path: string): Promise<Experiment> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'no such experiment file' : `cannot read the experiment file (${code ?? String(e)})`;
    throw new BnlabError(code === 'ENOENT' ? 'INVALID_ARGUMENT' : 'IO_ERROR', `${path}: ${what}`, { where: path, cause: e });
  }
  // Editors on Windows save UTF-8 with a byte order mark, which JSON.parse refuses.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BnlabError('INVALID_CONFIG', `${path}: not valid JSON: ${(e as Error).message}`, { where: path, cause: e });
  }
  return parseExperiment(json, path);
}
