import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageDataset } from '../dataset/image_dataset.js';
import { isFile } from './files.js';
import { removeStaleTempFiles, tempFileFor } from './temp_files.js';
import { writeAll } from './write_all.js';

/**
 * A file of decoded image datasets, so an archive of JPEG/PNG files is decoded once: a 4-byte
 * little-endian header length, a JSON header (format version, each split's name, size, shape,
 * class names, and the SHA-256 of the payload), then per split its labels and its NHWC bytes.
 */
const FORMAT = 'bnlab-decoded-images-1';

interface SplitHeader {
  name: string;
  datasetName: string;
  count: number;
  imageShape: [number, number, number];
  classNames: string[];
}

interface Header {
  format: string;
  key: string;
  splits: SplitHeader[];
  payloadSha256: string;
}

/** The cache file for a key (a hash of the archive's bytes and of the options that shape the result). */
export function decodedCachePath(cacheDir: string, key: string): string {
  return join(cacheDir, 'decoded', `${key}.bnimg`);
}

/**
 * Reads decoded datasets back; `undefined` (and the file removed) when it is missing, of another
 * format or key, truncated, or its payload does not match its SHA-256.
 */
export async function readDecodedCache(path: string, key: string): Promise<Record<string, ImageDataset> | undefined> {
  if (!(await isFile(path))) return undefined;
  try {
    const bytes = await readFile(path);
    const headerLength = bytes.readUInt32LE(0);
    const header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as Header;
    const payload = bytes.subarray(4 + headerLength);
    if (header.format !== FORMAT || header.key !== key) throw new Error('another format or key');
    if (createHash('sha256').update(payload).digest('hex') !== header.payloadSha256) throw new Error('corrupt');
    const out: Record<string, ImageDataset> = {};
    let offset = 0;
    for (const split of header.splits) {
      const [h, w, c] = split.imageShape;
      const labels = payload.subarray(offset, offset + split.count);
      offset += split.count;
      const images = payload.subarray(offset, offset + split.count * h * w * c);
      offset += split.count * h * w * c;
      out[split.name] = new ImageDataset({
        name: split.datasetName,
        images,
        labels,
        imageShape: split.imageShape,
        classNames: split.classNames,
      });
    }
    if (offset !== payload.length) throw new Error('wrong length');
    return out;
  } catch {
    await rm(path, { force: true }).catch(() => undefined);
    return undefined;
  }
}

/**
 * Writes decoded datasets (all examples, in order) to a temporary file, then renames it into place.
 * Temporary files of `path` left by a killed process (unmodified for 10 minutes) are removed first.
 */
export async function writeDecodedCache(path: string, key: string, datasets: Record<string, ImageDataset>): Promise<void> {
  const parts: Uint8Array[] = [];
  const splits: SplitHeader[] = [];
  const hash = createHash('sha256');
  for (const [name, d] of Object.entries(datasets)) {
    const labels = new Uint8Array(d.size);
    for (let i = 0; i < d.size; i++) labels[i] = d.label(i);
    const [h, w, c] = d.imageShape;
    const images = new Uint8Array(d.size * h * w * c);
    for (let i = 0; i < d.size; i++) images.set(d.image(i), i * h * w * c);
    parts.push(labels, images);
    hash.update(labels).update(images);
    splits.push({ name, datasetName: d.name, count: d.size, imageShape: [h, w, c], classNames: [...d.classNames] });
  }
  const header = Buffer.from(JSON.stringify({ format: FORMAT, key, splits, payloadSha256: hash.digest('hex') } satisfies Header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const folder = join(path, '..');
  await mkdir(folder, { recursive: true });
  await removeStaleTempFiles(path);
  const temp = tempFileFor(path);
  try {
    const handle = await open(temp, 'wx');
    try {
      for (const part of [length, header, ...parts]) await writeAll(handle, part);
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw e;
  }
}
