import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isBnlabError } from '@bnlab/core';
import jpeg from 'jpeg-js';
import { loadImageFolder } from '../../src/node/load_image_folder_node.js';
import type { ImageDataset } from '../../src/dataset/image_dataset.js';
import { jpegDeclaring } from '../support/bombs.js';
import { encodePng } from '../support/png_writer.js';
import { tarBytes, tarGzBytes } from '../support/tar_bytes.js';
import type { TarFile } from '../support/tar_bytes.js';
import { useTempDir } from '../support/temp_dir.js';
import { failure } from '../support/failure.js';

const tempDir = useTempDir();

/** A w×h gray PNG whose every pixel is `value`. */
const flat = (value: number, w = 4, h = 3) => encodePng(w, h, 1, new Uint8Array(w * h).fill(value));

/** Writes files (path relative to `root` → bytes) into a new folder tree. */
function tree(root: string, files: Record<string, Uint8Array | string>): string {
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), data);
  }
  return root;
}

async function archive(name: string, files: TarFile[], gzip = true): Promise<string> {
  const path = join(tempDir(), name);
  writeFileSync(path, gzip ? await tarGzBytes(files) : await tarBytes(files));
  return path;
}

describe('loadImageFolder', () => {
  it('sorts classes by code point and files within a class, without a top folder, plain .tar', async () => {
    const path = await archive(
      'gray.tar',
      [
        { name: 'train/b/2.png', data: flat(22) },
        { name: 'train/a/9.png', data: flat(19) },
        { name: 'train/C/1.png', data: flat(31) },
        { name: 'train/a/10.png', data: flat(110) },
        { name: 'val/a/1.png', data: flat(11) },
        { name: 'val/b/1.png', data: flat(21) },
        { name: 'val/C/1.png', data: flat(31) },
      ],
      false,
    );
    const { train, val } = await loadImageFolder({ archive: path, splits: ['train', 'val'], channels: 1 });
    expect(train!.classNames).toEqual(['C', 'a', 'b']); // Python's sorted(): upper case first
    expect(train!.imageShape).toEqual([3, 4, 1]);
    // 'a/10.png' < 'a/9.png' as strings, as in torchvision
    expect(Array.from({ length: 4 }, (_, i) => train!.image(i)[0])).toEqual([31, 110, 19, 22]);
    expect(Array.from({ length: 4 }, (_, i) => train!.label(i))).toEqual([0, 1, 1, 2]);
    expect(val!.size).toBe(3);
  });

  it('maps class folders to labels in the order of classNames when given', async () => {
    const path = await archive('named.tar.gz', [
      { name: 'x/train/cat/1.png', data: flat(1) },
      { name: 'x/train/dog/1.png', data: flat(2) },
      { name: 'x/test/cat/1.png', data: flat(1) },
      { name: 'x/test/dog/1.png', data: flat(2) },
    ]);
    const { train } = await loadImageFolder({ archive: path, classNames: ['dog', 'cat'], channels: 1 });
    expect(train!.classNames).toEqual(['dog', 'cat']);
    expect([train!.label(0), train!.image(0)[0]]).toEqual([0, 2]);
    // options given as undefined take their defaults (RGB, splits train and test)
    const rgb = await loadImageFolder({ archive: path, channels: undefined, splits: undefined, name: undefined });
    expect(rgb['train']!.imageShape).toEqual([3, 4, 3]); // gray repeated over RGB by default
    expect(Array.from(rgb['train']!.image(1).subarray(0, 3))).toEqual([2, 2, 2]);
  });

  it('names the file whose size differs, the split without images and classes that differ', async () => {
    const sizes = await archive('sizes.tar.gz', [
      { name: 'train/a/1.png', data: flat(1) },
      { name: 'train/a/2.png', data: flat(1, 5, 3) },
      { name: 'test/a/1.png', data: flat(1) },
    ]);
    await expect(loadImageFolder({ archive: sizes })).rejects.toThrow(
      `${sizes}: train/a/2.png: is 3×5 pixels; every image must be 3×4 (the size of the first one, or imageSize)`,
    );
    const noTest = await archive('notest.tar.gz', [{ name: 'train/a/1.png', data: flat(1) }]);
    const e = await loadImageFolder({ archive: noTest }).catch((x: unknown) => x);
    expect(isBnlabError(e, 'DATA_MISSING')).toBe(true);
    expect((e as Error).message).toBe(`${noTest}: no images (.jpg, .jpeg, .png) under test/<class>/`);
    const differ = await archive('differ.tar.gz', [
      { name: 'train/a/1.png', data: flat(1) },
      { name: 'train/b/1.png', data: flat(1) },
      { name: 'test/a/1.png', data: flat(1) },
    ]);
    await expect(loadImageFolder({ archive: differ })).rejects.toThrow(
      'the class folders of test/ must match the classes of train/; missing: b',
    );
    const broken = await archive('broken.tar.gz', [
      { name: 'train/a/1.png', data: flat(1).subarray(0, 30) },
      { name: 'test/a/1.png', data: flat(1) },
    ]);
    await expect(loadImageFolder({ archive: broken })).rejects.toMatchObject({
      code: 'DATA_FORMAT',
      where: `${broken}: train/a/1.png`,
    });
    await expect(loadImageFolder({})).rejects.toThrow('loadImageFolder needs exactly one of folder and archive');
  });

  it('keeps decoded pixels in the cache when asked, and rebuilds a corrupt cache file', async () => {
    const path = await archive('cached.tar.gz', [
      { name: 'train/b/1.png', data: flat(5) },
      { name: 'train/a/1.png', data: flat(7) },
      { name: 'test/a/1.png', data: flat(9) },
      { name: 'test/b/1.png', data: flat(11) },
    ]);
    const cacheDir = join(tempDir(), 'decoded-cache');
    const snapshot = (d: Record<string, ImageDataset>) =>
      Object.entries(d).map(([split, x]) => [
        split,
        x.classNames,
        x.imageShape,
        Array.from({ length: x.size }, (_, i) => [x.label(i), Array.from(x.image(i))]),
      ]);
    const direct = snapshot(await loadImageFolder({ archive: path }));
    expect(snapshot(await loadImageFolder({ archive: path, cacheDecoded: true, cacheDir }))).toEqual(direct);
    const [file] = readdirSync(join(cacheDir, 'decoded'));
    expect(file).toMatch(/^[0-9a-f]{64}\.bnimg$/);
    const cached = join(cacheDir, 'decoded', file as string);
    const good = readFileSync(cached);
    expect(snapshot(await loadImageFolder({ archive: path, cacheDecoded: true, cacheDir }))).toEqual(direct);
    // the second load reads the cache: a consistent edit of the cached pixels (checksum updated) shows through
    const headerLength = good.readUInt32LE(0);
    const header = JSON.parse(good.subarray(4, 4 + headerLength).toString('utf8'));
    const edited = Buffer.from(good);
    edited[edited.length - 1] = 200;
    header.payloadSha256 = createHash('sha256')
      .update(edited.subarray(4 + headerLength))
      .digest('hex');
    edited.set(Buffer.from(JSON.stringify(header)), 4);
    writeFileSync(cached, edited);
    const fromCache = await loadImageFolder({ archive: path, cacheDecoded: true, cacheDir });
    expect(fromCache['test']!.image(1)[35]).toBe(200); // 4×3×3 bytes: its last one
    writeFileSync(cached, good);
    // a changed payload byte fails the cache's checksum: decoded again, file rewritten
    const bad = Buffer.from(good);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    writeFileSync(cached, bad);
    expect(snapshot(await loadImageFolder({ archive: path, cacheDecoded: true, cacheDir }))).toEqual(direct);
    expect(readFileSync(cached).equals(good)).toBe(true);
    expect(readdirSync(join(cacheDir, 'decoded'))).toEqual([file]);
  });

  it('follows symbolic links to images and to class folders, and does not loop on a link back up', async () => {
    const outside = tree(join(tempDir(), 'outside'), { 'dog.png': flat(50), 'cats/1.png': flat(40) });
    const root = tree(join(tempDir(), 'linked'), { 'train/ant/1.png': flat(10), 'test/ant/1.png': flat(11) });
    mkdirSync(join(root, 'train', 'dog'));
    symlinkSync(join(outside, 'dog.png'), join(root, 'train', 'dog', '1.png'));
    symlinkSync(join(outside, 'cats'), join(root, 'train', 'cat'));
    symlinkSync('..', join(root, 'train', 'ant', 'up')); // train/ant/up -> train: a loop
    const { train } = await loadImageFolder({ folder: root, splits: ['train'], channels: 1 });
    expect(train!.classNames).toEqual(['ant', 'cat', 'dog']);
    expect(Array.from({ length: train!.size }, (_, i) => [train!.label(i), train!.image(i)[0]])).toEqual([
      [0, 10],
      [1, 40],
      [2, 50],
    ]);
  });

  it('names a broken symbolic link (IO_ERROR) instead of skipping it', async () => {
    const root = tree(join(tempDir(), 'broken-link'), { 'train/a/1.png': flat(1) });
    const link = join(root, 'train', 'a', '2.png');
    symlinkSync(join(root, 'moved-away.png'), link);
    const e = await failure(loadImageFolder({ folder: root, splits: ['train'] }));
    expect(e.code).toBe('IO_ERROR');
    expect(e.message).toContain(`${link}: broken symbolic link`);
  });

  describe('a class folder without images', () => {
    const files = {
      'train/a/1.png': flat(1),
      'train/b/1.webp': 'RIFF....WEBP',
      'train/b/2.bmp': 'BM',
      'train/c/1.png': flat(3),
    };
    const message = (where: string, root: string) =>
      `${where}: no images in the class folder ${root}train/b/ (supported: .jpg, .jpeg, .png): ` +
      'every class folder needs at least one image; add some or remove the folder';

    it('is DATA_MISSING naming it in a folder, instead of shifting the labels after it', async () => {
      const folder = tree(join(tempDir(), 'empty-class'), files);
      const e = await failure(loadImageFolder({ folder, splits: ['train'] }));
      expect(e.code).toBe('DATA_MISSING');
      expect(e.message).toBe(message(folder, ''));
      // a class folder holding nothing at all, under a top folder
      const bare = tree(join(tempDir(), 'bare-class'), { 'x/train/a/1.png': flat(1), 'x/train/c/1.png': flat(3) });
      mkdirSync(join(bare, 'x', 'train', 'b'));
      await expect(loadImageFolder({ folder: bare, splits: ['train'] })).rejects.toThrow(message(bare, 'x/'));
    });

    it('is DATA_MISSING naming it in an archive, from its other files or its directory entry', async () => {
      const withOthers = await archive(
        'empty-class.tar.gz',
        Object.entries(files).map(([name, data]) => ({
          name,
          data: typeof data === 'string' ? new TextEncoder().encode(data) : data,
        })),
      );
      const e = await failure(loadImageFolder({ archive: withOthers, splits: ['train'] }));
      expect(e.code).toBe('DATA_MISSING');
      expect(e.message).toBe(message(withOthers, ''));
      const withDirectory = await archive('empty-dir.tar', [
        { name: 'train/a/1.png', data: flat(1) },
        { name: 'train/b/', type: 'directory' },
        { name: 'train/c/1.png', data: flat(3) },
      ]);
      await expect(loadImageFolder({ archive: withDirectory, splits: ['train'] })).rejects.toThrow(message(withDirectory, ''));
    });
  });

  it('removes a stale temporary file of the decoded cache and keeps a fresh one', async () => {
    const path = await archive('stale.tar.gz', [
      { name: 'train/a/1.png', data: flat(5) },
      { name: 'test/a/1.png', data: flat(9) },
    ]);
    const cacheDir = join(tempDir(), 'stale-cache');
    await loadImageFolder({ archive: path, cacheDecoded: true, cacheDir });
    const decoded = join(cacheDir, 'decoded');
    const [file] = readdirSync(decoded) as [string];
    const stale = `.${file}.0123456789ab.part`;
    const fresh = `.${file}.ba9876543210.part`;
    writeFileSync(join(decoded, stale), 'left by a killed process');
    writeFileSync(join(decoded, fresh), 'being written by another process');
    const old = (Date.now() - 11 * 60 * 1000) / 1000;
    utimesSync(join(decoded, stale), old, old);
    writeFileSync(join(decoded, file), 'corrupt'); // so the load fills the cache again
    await loadImageFolder({ archive: path, cacheDecoded: true, cacheDir });
    expect(readdirSync(decoded).sort()).toEqual([fresh, file].sort());
  });

  it('refuses an image whose header declares another size before decoding it, whatever maxPixels allows', async () => {
    const root = tree(join(tempDir(), 'declared-size'), {
      'train/a/1.png': flat(1),
      'train/a/2.jpg': jpegDeclaring(8000, 8000), // 286 bytes; decoding would take 700 MB
    });
    const decode = jest.spyOn(jpeg, 'decode');
    try {
      const e = await failure(loadImageFolder({ folder: root, splits: ['train'], maxPixels: 1e8 }));
      expect(e.code).toBe('DATA_FORMAT');
      expect(e.message).toBe(
        `${root}: train/a/2.jpg: is 8000×8000 pixels; every image must be 3×4 (the size of the first one, or imageSize)`,
      );
      expect(decode).not.toHaveBeenCalled();
    } finally {
      decode.mockRestore();
    }
  });
});
