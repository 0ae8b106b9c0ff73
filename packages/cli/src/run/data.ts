import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { BnlabError } from '@bnlab/core';
import type { ImageDataset } from '@bnlab/datasets';
import { cifar10 } from '@bnlab/datasets';
import { DATASET_LOADERS } from '../commands/datasets.js';
import type { TrialFields } from '../experiment/schema.js';
import type { Trial } from '../experiment/trials.js';

/** The data of one trial: training set, optional validation set, test set. */
export interface TrialData {
  train: ImageDataset;
  validation?: ImageDataset;
  test: ImageDataset;
}

/**
 * Loads datasets once per process and cuts them per trial (limits, validation split).
 * The validation split uses a fixed seed, so every trial of an experiment validates on the
 * same examples whatever its own seed.
 */
export class DataCache {
  private readonly loaded = new Map<string, Promise<{ train: ImageDataset; test: ImageDataset }>>();

  constructor(private readonly offline = true) {}

  async forTrial(spec: TrialFields['dataset']): Promise<TrialData> {
    const key = JSON.stringify([spec.name, spec.dir ?? null, spec.imageArchive ?? null, spec.imageFolder ?? null, spec.scaling]);
    let splits = this.loaded.get(key);
    if (!splits) {
      const common = { offline: this.offline, scaling: spec.scaling === 'standardize' ? ('standardize' as const) : ('unit' as const) };
      if (spec.name === 'cifar10') {
        splits = cifar10.load({
          ...common,
          ...(spec.dir ? { folder: spec.dir } : {}),
          ...(spec.imageArchive ? { imageArchive: spec.imageArchive, cacheDecoded: true } : {}),
          ...(spec.imageFolder ? { imageFolder: spec.imageFolder } : {}),
        });
      } else {
        if (spec.imageArchive || spec.imageFolder) {
          throw new BnlabError('INVALID_CONFIG', `dataset.imageArchive and dataset.imageFolder are for cifar10, not ${spec.name}`, {
            where: 'dataset',
          });
        }
        splits = DATASET_LOADERS[spec.name].load({ ...common, ...(spec.dir ? { folder: spec.dir } : {}) });
      }
      this.loaded.set(key, splits);
      splits.catch(() => this.loaded.delete(key));
    }
    const { train: fullTrain, test: fullTest } = await splits;
    const head = (d: ImageDataset, n: number | undefined): ImageDataset =>
      n !== undefined && n < d.size
        ? d.subset(
            Array.from({ length: n }, (_, i) => i),
            `${d.name}[:${n}]`,
          )
        : d;
    let train = head(fullTrain, spec.trainLimit);
    const test = head(fullTest, spec.testLimit);
    let validation: ImageDataset | undefined;
    if (spec.validationSplit > 0) [train, validation] = train.split(spec.validationSplit, 0);
    return validation ? { train, validation, test } : { train, test };
  }
}

/** The dataset fields that name a path, and what each must be. */
const SOURCE_FIELDS = [
  ['dir', 'folder'],
  ['imageFolder', 'folder'],
  ['imageArchive', 'file'],
] as const;

/**
 * Checks, before any trial runs (and before a results folder is made), that the folders and
 * archives the trials read their data from exist: a missing one would otherwise fail every
 * trial that uses it. What is inside is checked when the data loads.
 */
export async function checkDataSources(trials: readonly Trial[], file: string): Promise<void> {
  const seen = new Set<string>();
  for (const trial of trials) {
    for (const [field, kind] of SOURCE_FIELDS) {
      const path = trial.fields.dataset[field];
      if (path === undefined || seen.has(`${field}\0${path}`)) continue;
      seen.add(`${field}\0${path}`);
      let problem: string | undefined;
      try {
        const s = await stat(path);
        if (kind === 'folder' && !s.isDirectory()) problem = 'is not a folder';
        if (kind === 'file' && s.isDirectory()) problem = 'is a folder, not an archive';
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // Anything else (no permission, …) is left for the loader to report when it reads.
        if (code === 'ENOENT' || code === 'ENOTDIR') problem = `no such ${kind}`;
      }
      if (problem) {
        const shown = isAbsolute(path) ? `'${path}'` : `'${path}' (${resolve(path)}: paths are relative to the working directory)`;
        const variant = Object.keys(trial.variant).length ? ` (grid variant "${trial.variantLabel}")` : '';
        throw new BnlabError('INVALID_CONFIG', `${file}: dataset.${field}${variant}: ${problem}: ${shown}`, { where: `dataset.${field}` });
      }
    }
  }
}
