import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cifarBatch, cifarRecord, recordPixel } from './cifar_bytes.js';
import { tarGzBytes } from './tar_bytes.js';

export const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const OFFICIAL_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/**
 * The official binary layout in miniature: five training batches of 2 records (ids 0–9) and a
 * test batch of 3 (ids 100–102). Record `id` has label `id % 10` (test: `(id + 3) % 10`) and the
 * pixels of `recordPixel(id)`.
 */
export function cifarFixtureFiles(metaNames: string[] = OFFICIAL_NAMES): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  TRAIN_FILES.forEach((name, b) => {
    files[name] = cifarBatch([2 * b, 2 * b + 1].map((id) => cifarRecord(id % 10, recordPixel(id))));
  });
  files['test_batch.bin'] = cifarBatch([100, 101, 102].map((id) => cifarRecord((id + 3) % 10, recordPixel(id))));
  files['batches.meta.txt'] = new TextEncoder().encode(`${metaNames.join('\n')}\n\n`);
  return files;
}

/** Writes the files into `<dir>/cifar-10-batches-bin/` and returns that folder. */
export function writeCifarFolder(dir: string, files = cifarFixtureFiles()): string {
  const folder = join(dir, 'cifar-10-batches-bin');
  mkdirSync(folder, { recursive: true });
  for (const [name, data] of Object.entries(files)) writeFileSync(join(folder, name), data);
  return folder;
}

/** The files as the official `cifar-10-binary.tar.gz` holds them. */
export function cifarTarGz(files = cifarFixtureFiles()): Promise<Uint8Array> {
  return tarGzBytes([
    { name: 'cifar-10-batches-bin/', type: 'directory' },
    ...Object.entries(files).map(([name, data]) => ({ name: `cifar-10-batches-bin/${name}`, data })),
  ]);
}
