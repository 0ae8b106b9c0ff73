import { CIFAR_PIXEL_BYTES } from '../formats/cifar_binary.js';
import type { CifarRecords } from '../formats/cifar_binary.js';
import type { DatasetInfo } from '../specs/dataset_info.js';
import { ImageDataset } from './image_dataset.js';

/** Builds one split of CIFAR-10 from its parsed batch files, in order (the parts are copied once). */
export function cifarSplitDataset(
  info: DatasetInfo,
  split: string,
  parts: readonly CifarRecords[],
  classNames: readonly string[] = info.classNames,
): ImageDataset {
  let images: Uint8Array;
  let labels: Uint8Array;
  if (parts.length === 1) {
    ({ images, labels } = parts[0] as CifarRecords);
  } else {
    const count = parts.reduce((s, p) => s + p.count, 0);
    images = new Uint8Array(count * CIFAR_PIXEL_BYTES);
    labels = new Uint8Array(count);
    let n = 0;
    for (const p of parts) {
      images.set(p.images, n * CIFAR_PIXEL_BYTES);
      labels.set(p.labels, n);
      n += p.count;
    }
  }
  return new ImageDataset({ name: `${info.name}/${split}`, images, labels, imageShape: info.imageShape, classNames });
}
