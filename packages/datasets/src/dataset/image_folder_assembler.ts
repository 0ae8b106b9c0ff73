import { BnlabError } from '@bnlab/core';
import { decodeImage, declaredImageSize } from '../formats/image.js';
import { MAX_IMAGE_PIXELS } from '../formats/png.js';
import type { DecodeImageOptions, Inflate } from '../formats/png.js';
import { ImageDataset } from './image_dataset.js';
import { withDefaults } from '../with_defaults.js';

/** Options of an image-folder dataset (torchvision `ImageFolder` layout, one folder per split). */
export interface ImageFolderOptions {
  /** Names of the split folders; each becomes a dataset. @default ['train', 'test'] */
  splits?: readonly string[];
  /** 1 for gray, 3 for RGB (others are converted). @default 3 */
  channels?: 1 | 3;
  /**
   * Class folder names in label order. @default the class folders found, sorted (as ImageFolder
   * does)
   */
  classNames?: readonly string[];
  /** `[height, width]` every image must have. @default the first image's size */
  imageSize?: readonly [number, number];
  /** Dataset name prefix (`<name>/<split>`). @default 'images' */
  name?: string;
  /**
   * Images with more pixels are refused from their header, before decoding (see
   * {@link DecodeImageOptions.maxPixels}); once the size is known (`imageSize`, or the first
   * image's), an image whose header declares another size is refused before decoding too.
   * @default 16777216 (2^24)
   */
  maxPixels?: number;
}

/** File name endings read as images (case-insensitive). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png'];

interface Item {
  file: string;
  className: string;
  bytes: Uint8Array;
}

const DEFAULTS: Required<Pick<ImageFolderOptions, 'splits' | 'channels' | 'name' | 'maxPixels'>> = {
  splits: ['train', 'test'],
  channels: 3,
  name: 'images',
  maxPixels: MAX_IMAGE_PIXELS,
};

/** The non-empty parts of a `/`-separated path (`.` dropped). */
function pathParts(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/** Code-point order, as Python's `sorted` on strings (what ImageFolder uses). */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Gathers image files in the torchvision `ImageFolder` layout, `<root>/<split>/<class>/<file>`
 * (`.jpg`, `.jpeg`, `.png`), from a folder walk or a tar stream, and builds one
 * {@link ImageDataset} per split. Paths are relative to the folder or archive; a common top
 * folder (as in `cifar10-jpeg/train/…`) is found by itself. Classes are the sorted class folder
 * names (or `classNames`), files are sorted within a class, and the encoded bytes are kept until
 * {@link ImageFolderAssembler.finish} decodes them straight into the dataset's byte array.
 *
 * Give it images with {@link ImageFolderAssembler.add} and every other member (folders, other
 * files) with {@link ImageFolderAssembler.addOther}: class folders are the folders found, not the
 * classes of the images found, so a class folder without images is an error (as in torchvision)
 * rather than a class that vanishes and shifts the labels of the classes after it.
 */
export class ImageFolderAssembler {
  private readonly options: Required<Omit<ImageFolderOptions, 'classNames' | 'imageSize'>> &
    Pick<ImageFolderOptions, 'classNames' | 'imageSize'>;
  private readonly items = new Map<string, Item[]>();
  /** Every folder seen, `/`-joined (class folders are picked out once the top folder is known). */
  private readonly folders = new Set<string>();
  private prefix: string[] | undefined;

  /**
   * @param where the folder, archive or URL, for messages
   * @param inflate zlib decompression, for PNG files
   */
  constructor(
    private readonly where: string,
    private readonly inflate: Inflate,
    options: ImageFolderOptions = {},
  ) {
    this.options = { ...options, ...withDefaults(options, DEFAULTS) };
    if (this.options.splits.length === 0) {
      throw new BnlabError('INVALID_ARGUMENT', 'splits must name at least one split folder', { where: 'splits' });
    }
    if (this.options.channels !== 1 && this.options.channels !== 3) {
      throw new BnlabError('INVALID_ARGUMENT', `channels must be 1 or 3, got ${String(this.options.channels)}`, {
        where: 'channels',
      });
    }
    for (const split of this.options.splits) this.items.set(split, []);
  }

  /** True when `path` names an image file (by its extension). */
  wants(path: string): boolean {
    const lower = path.toLowerCase();
    return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
  }

  /**
   * Adds an image file by its `/`-separated relative path; files outside `<split>/<class>/` are
   * ignored, and a path that {@link ImageFolderAssembler.wants} refuses counts as
   * {@link ImageFolderAssembler.addOther}.
   */
  add(path: string, bytes: Uint8Array): void {
    if (!this.wants(path)) {
      this.addOther(path, 'file');
      return;
    }
    const parts = pathParts(path);
    if (this.prefix === undefined) {
      const at = parts.findIndex((p, i) => this.items.has(p) && i <= parts.length - 3);
      if (at < 0) return;
      this.prefix = parts.slice(0, at);
    }
    const prefix = this.prefix;
    if (parts.length < prefix.length + 3 || !prefix.every((p, i) => parts[i] === p)) return;
    const list = this.items.get(parts[prefix.length] as string);
    if (list === undefined) return;
    list.push({ file: parts.join('/'), className: parts[prefix.length + 1] as string, bytes });
  }

  /**
   * Notes a member that is not an image, by its `/`-separated relative path: a folder, or a file
   * of another kind (whose folder still counts as a class folder).
   */
  addOther(path: string, type: 'file' | 'directory' | 'other'): void {
    const parts = pathParts(path);
    this.folders.add((type === 'directory' ? parts : parts.slice(0, -1)).join('/'));
  }

  /** Decodes every image and builds the datasets, keyed by split name. */
  async finish(): Promise<Record<string, ImageDataset>> {
    const { splits, channels, name, maxPixels } = this.options;
    const root = this.prefix === undefined || this.prefix.length === 0 ? '' : `${this.prefix.join('/')}/`;
    const classNames = this.resolveClasses(root);
    const result: Record<string, ImageDataset> = {};
    let size = this.options.imageSize;
    for (const split of splits) {
      const items = this.items.get(split) as Item[];
      const classIndex = new Map(classNames.map((c, i) => [c, i] as const));
      items.sort(
        (a, b) => (classIndex.get(a.className) as number) - (classIndex.get(b.className) as number) || byCodePoint(a.file, b.file),
      );
      let images: Uint8Array | undefined;
      const labels = new Uint8Array(items.length);
      for (let i = 0; i < items.length; i++) {
        const item = items[i] as Item;
        const source = `${this.where}: ${item.file}`;
        const wrongSize = (height: number, width: number, expected: readonly [number, number]): BnlabError =>
          new BnlabError(
            'DATA_FORMAT',
            `${source}: is ${height}×${width} pixels; every image must be ${expected[0]}×${expected[1]} ` +
              '(the size of the first one, or imageSize)',
            { where: source },
          );
        // Refuse a wrong size from the header: a small file may declare a huge image.
        const declared = size === undefined ? undefined : declaredImageSize(item.bytes);
        if (size !== undefined && declared !== undefined && (declared.height !== size[0] || declared.width !== size[1])) {
          throw wrongSize(declared.height, declared.width, size);
        }
        const image = await decodeImage(item.bytes, source, channels, this.inflate, { maxPixels });
        if (size === undefined) size = [image.height, image.width];
        if (image.height !== size[0] || image.width !== size[1]) throw wrongSize(image.height, image.width, size);
        images ??= new Uint8Array(items.length * size[0] * size[1] * channels);
        images.set(image.data, i * image.data.length);
        labels[i] = classIndex.get(item.className) as number;
        items[i] = { ...item, bytes: new Uint8Array(0) }; // drop the encoded bytes as we go
      }
      const [h, w] = size as readonly [number, number];
      result[split] = new ImageDataset({
        name: `${name}/${split}`,
        images: images as Uint8Array,
        labels,
        imageShape: [h, w, channels],
        classNames,
      });
    }
    this.items.clear();
    return result;
  }

  private resolveClasses(root: string): string[] {
    const prefix = this.prefix ?? [];
    const folderClasses = new Map<string, Set<string>>([...this.items.keys()].map((s) => [s, new Set<string>()]));
    for (const folder of this.folders) {
      const parts = folder === '' ? [] : folder.split('/');
      if (parts.length < prefix.length + 2 || !prefix.every((p, i) => parts[i] === p)) continue;
      folderClasses.get(parts[prefix.length] as string)?.add(parts[prefix.length + 1] as string);
    }
    const found = new Map<string, string[]>();
    for (const [split, items] of this.items) {
      const withImages = new Set(items.map((i) => i.className));
      const classes = [...new Set([...withImages, ...(folderClasses.get(split) as Set<string>)])].sort(byCodePoint);
      if (withImages.size === 0) {
        throw new BnlabError('DATA_MISSING', `${this.where}: no images (${IMAGE_EXTENSIONS.join(', ')}) under ${root}${split}/<class>/`, {
          where: this.where,
        });
      }
      const empty = classes.filter((c) => !withImages.has(c));
      if (empty.length > 0) {
        const folders = empty.map((c) => `${root}${split}/${c}/`);
        throw new BnlabError(
          'DATA_MISSING',
          `${this.where}: no images in the class ${empty.length === 1 ? 'folder' : 'folders'} ${folders.join(', ')} ` +
            `(supported: ${IMAGE_EXTENSIONS.join(', ')}): every class folder needs at least one image; ` +
            `add some or remove the ${empty.length === 1 ? 'folder' : 'folders'}`,
          { where: `${this.where}: ${folders[0] as string}` },
        );
      }
      found.set(split, classes);
    }
    const wanted = this.options.classNames;
    const [firstSplit, firstClasses] = [...found][0] as [string, string[]];
    for (const [split, classes] of found) {
      const reference = wanted === undefined ? firstClasses : [...wanted].sort(byCodePoint);
      const missing = reference.filter((c) => !classes.includes(c));
      const extra = classes.filter((c) => !reference.includes(c));
      if (missing.length > 0 || extra.length > 0) {
        const against = wanted === undefined ? `the classes of ${root}${firstSplit}/` : 'classNames';
        throw new BnlabError(
          'DATA_FORMAT',
          `${this.where}: the class folders of ${root}${split}/ must match ${against}` +
            (missing.length > 0 ? `; missing: ${missing.join(', ')}` : '') +
            (extra.length > 0 ? `; unexpected: ${extra.join(', ')}` : ''),
          { where: this.where },
        );
      }
    }
    if (wanted !== undefined && wanted.length > 256) {
      throw new BnlabError('INVALID_ARGUMENT', `classNames has ${wanted.length} names; at most 256 fit in byte labels`, {
        where: 'classNames',
      });
    }
    return wanted === undefined ? firstClasses : [...wanted];
  }
}
