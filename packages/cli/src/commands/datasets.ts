import { cifar10, fashionMnist, mnist } from '@bnlab/datasets';
import type { LoadOptions } from '@bnlab/datasets';
import { isBnlabError } from '@bnlab/core';

/** The dataset loaders by the names experiment files and the CLI use. */
export const DATASET_LOADERS = { mnist, 'fashion-mnist': fashionMnist, cifar10 } as const;

/** One row of `bnlab datasets list|verify`. */
export interface DatasetStatus {
  name: string;
  available: boolean;
  train?: number;
  test?: number;
  classes?: number;
  imageShape?: readonly number[];
  problem?: string;
}

/** Names of the datasets the CLI knows. */
export const DATASET_CHOICES = Object.keys(DATASET_LOADERS) as Array<keyof typeof DATASET_LOADERS>;

/**
 * Loads each dataset from local sources only (never the network) and says whether it is
 * there, with its sizes, or what is missing and how to provide it.
 */
export async function datasetStatus(
  names: readonly string[] = DATASET_CHOICES,
  options: { folder?: string } = {},
): Promise<DatasetStatus[]> {
  const rows: DatasetStatus[] = [];
  for (const name of names) {
    const loader = DATASET_LOADERS[name as keyof typeof DATASET_LOADERS];
    if (!loader) {
      rows.push({ name, available: false, problem: `unknown dataset (known: ${DATASET_CHOICES.join(', ')})` });
      continue;
    }
    try {
      const { train, test } = await loader.load({ offline: true, ...(options.folder ? { folder: options.folder } : {}) });
      rows.push({ name, available: true, train: train.size, test: test.size, classes: train.numClasses, imageShape: train.imageShape });
    } catch (e) {
      if (!isBnlabError(e)) throw e;
      rows.push({ name, available: false, problem: e.message });
    }
  }
  return rows;
}

/** Where `bnlab datasets fetch` downloads from, into which cache, and how patiently. */
export type FetchOptions = Pick<LoadOptions, 'baseUrl' | 'cacheDir' | 'retries' | 'idleTimeoutMs' | 'timeoutMs'>;

/** Downloads a dataset into the cache (where it has a download source) and verifies it. */
export async function fetchDataset(name: string, options: FetchOptions = {}): Promise<DatasetStatus> {
  const loader = DATASET_LOADERS[name as keyof typeof DATASET_LOADERS];
  if (!loader) return { name, available: false, problem: `unknown dataset (known: ${DATASET_CHOICES.join(', ')})` };
  const { train, test } = await loader.load({ offline: false, ...options });
  return { name, available: true, train: train.size, test: test.size, classes: train.numClasses, imageShape: train.imageShape };
}
