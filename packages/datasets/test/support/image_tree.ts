import jpeg from 'jpeg-js';
import { encodePng } from './png_writer.js';
import type { TarFile } from './tar_bytes.js';

/** The pixel of PNG file `file` of class `cls` (exact: PNG is lossless). */
export function treePixel(cls: number, file: number, x: number, y: number, c: number): number {
  return (cls * 20 + file * 5 + x + 2 * y + c * 60) % 256;
}

/** The solid colour of JPEG file `file` of class `cls` (JPEG keeps it within a unit or two). */
export function treeColour(cls: number, file: number): [number, number, number] {
  return [(cls * 23 + 10) % 256, (file * 70 + 30) % 256, 200 - cls * 10];
}

export function treePng(cls: number, file: number, size = 32, channels: 1 | 3 = 3): Uint8Array {
  const pixels = new Uint8Array(size * size * channels);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) for (let c = 0; c < channels; c++) pixels[(y * size + x) * channels + c] = treePixel(cls, file, x, y, c);
  return encodePng(size, size, channels, pixels);
}

export function treeJpeg(cls: number, file: number, size = 32): Uint8Array {
  const data = new Uint8Array(size * size * 4);
  const [r, g, b] = treeColour(cls, file);
  for (let p = 0; p < size * size; p++) data.set([r, g, b, 255], 4 * p);
  return new Uint8Array(jpeg.encode({ width: size, height: size, data }, 100).data);
}

/**
 * An ImageFolder tree under `top/`: for each class, train holds `0001.png` then `0000.png`
 * (listed out of order on purpose) and `0002.jpg`; test holds `0000.png`. Classes are given in
 * any order; the loader must sort them.
 */
export function imageTree(classes: string[], top = 'cifar10-jpeg', size = 32): TarFile[] {
  const sorted = [...classes].sort();
  const files: TarFile[] = [];
  for (const name of classes) {
    const cls = sorted.indexOf(name);
    files.push({ name: `${top}/train/${name}/0001.png`, data: treePng(cls, 1, size) });
    files.push({ name: `${top}/train/${name}/0000.png`, data: treePng(cls, 0, size) });
    files.push({ name: `${top}/train/${name}/0002.jpg`, data: treeJpeg(cls, 2, size) });
    files.push({ name: `${top}/test/${name}/0000.png`, data: treePng(cls, 0, size) });
  }
  files.push({ name: `${top}/README.txt`, data: new TextEncoder().encode('not an image') });
  return files;
}
