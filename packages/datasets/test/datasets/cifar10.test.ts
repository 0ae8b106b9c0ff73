import { mkdirSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isBnlabError } from '@bnlab/core';
import { cifar10 } from '../../src/node/datasets.js';
import type { ImageDataset } from '../../src/dataset/image_dataset.js';
import { recordPixel } from '../support/cifar_bytes.js';
import { OFFICIAL_NAMES, cifarFixtureFiles, cifarTarGz, writeCifarFolder } from '../support/cifar_fixture.js';
import { imageTree, treeColour, treePixel } from '../support/image_tree.js';
import { tarGzBytes } from '../support/tar_bytes.js';
import { useTempDir } from '../support/temp_dir.js';

const tempDir = useTempDir();

/** Checks example `k` of `d` is record `id`: its label and its pixels, read HWC at known places. */
function expectRecord(d: ImageDataset, k: number, id: number, label: number): void {
  expect(d.label(k)).toBe(label);
  const image = d.image(k);
  const pixel = recordPixel(id);
  for (const [x, y] of [
    [0, 0],
    [31, 0],
    [0, 31],
    [5, 17],
    [31, 31],
  ] as const) {
    for (let c = 0; c < 3; c++) expect(image[(y * 32 + x) * 3 + c]).toBe(pixel(x, y, c));
  }
}

function expectFixture(train: ImageDataset, test: ImageDataset): void {
  expect([train.size, test.size]).toEqual([10, 3]);
  expect(train.imageShape).toEqual([32, 32, 3]);
  for (let id = 0; id < 10; id++) expectRecord(train, id, id, id % 10); // batches 1..5 in order
  [100, 101, 102].forEach((id, k) => expectRecord(test, k, id, (id + 3) % 10));
}

async function error(p: Promise<unknown>): Promise<Error & { code: string }> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isBnlabError(e)).toBe(true);
  return e as Error & { code: string };
}

describe('CIFAR-10 binary format', () => {
  it('loads the official folder layout (the folder or its parent), CHW → HWC, in batch order', async () => {
    const folder = writeCifarFolder(join(tempDir(), 'plain'));
    for (const f of [folder, join(tempDir(), 'plain')]) {
      const { train, test } = await cifar10.load({ folder: f });
      expectFixture(train, test);
      expect(train.classNames).toEqual(OFFICIAL_NAMES);
    }
  });

  it('takes the class names, in order, from batches.meta.txt', async () => {
    const reversed = [...OFFICIAL_NAMES].reverse();
    const folder = writeCifarFolder(join(tempDir(), 'meta'), cifarFixtureFiles(reversed));
    const { train, test } = await cifar10.load({ folder });
    expect(train.classNames).toEqual(reversed);
    expect(test.classNames[0]).toBe('truck');
    // without the meta file, the official names
    unlinkSync(join(folder, 'batches.meta.txt'));
    expect((await cifar10.load({ folder })).train.classNames).toEqual(OFFICIAL_NAMES);
  });

  it('streams the official .tar.gz layout', async () => {
    const archive = join(tempDir(), 'cifar-10-binary.tar.gz');
    writeFileSync(archive, await cifarTarGz());
    const { train, test } = await cifar10.load({ archive });
    expectFixture(train, test);
  });

  it('names what is missing or malformed', async () => {
    const files = cifarFixtureFiles();
    delete files['test_batch.bin'];
    const missing = await error(cifar10.load({ folder: writeCifarFolder(join(tempDir(), 'missing'), files) }));
    expect(missing.code).toBe('DATA_MISSING');
    expect(missing.message).toMatch(/cifar-10-batches-bin: the folder lacks CIFAR-10 binary files test_batch.bin/);

    const bad = cifarFixtureFiles();
    bad['data_batch_3.bin'] = (bad['data_batch_3.bin'] as Uint8Array).subarray(0, 3073 + 100);
    const size = await error(cifar10.load({ folder: writeCifarFolder(join(tempDir(), 'size'), bad) }));
    expect(size.code).toBe('DATA_FORMAT');
    expect(size.message).toMatch(/data_batch_3.bin: size 3173 bytes is not a positive multiple of 3073/);

    const archive = join(tempDir(), 'cut.tar.gz');
    const gz = await cifarTarGz();
    writeFileSync(archive, gz.subarray(0, gz.length - 20));
    const cut = await error(cifar10.load({ archive }));
    expect(cut.code).toBe('DATA_FORMAT');
    expect(cut.message).toContain('cut.tar.gz');

    const archiveMissing = join(tempDir(), 'partial.tar.gz');
    writeFileSync(archiveMissing, await cifarTarGz(files));
    expect((await error(cifar10.load({ archive: archiveMissing }))).message).toMatch(/CIFAR-10 files missing: test_batch.bin/);
  });

  it('reports an unreadable folder or archive as IO_ERROR naming it', async () => {
    const nowhere = join(tempDir(), 'does-not-exist');
    const e = await error(cifar10.load({ folder: nowhere }));
    expect(e.code).toBe('IO_ERROR');
    expect(e.message).toBe(`${nowhere}: the folder does not exist (ENOENT: no such file or directory, scandir '${nowhere}')`);
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    expect((await error(cifar10.load({ folder: file }))).message).toMatch(/a-file: the folder is not a folder/);
    expect((await error(cifar10.load({ archive: nowhere }))).code).toBe('IO_ERROR');
    expect((await error(cifar10.load({ folder: nowhere, archive: nowhere }))).message).toBe(
      'give at most one CIFAR-10 source, got folder and archive',
    );
  });
});

describe('CIFAR-10 as an image folder (ImageFolder layout, JPEG and PNG)', () => {
  async function check(train: ImageDataset, test: ImageDataset): Promise<void> {
    expect([train.size, test.size]).toEqual([30, 10]);
    expect(train.classNames).toEqual(OFFICIAL_NAMES); // alphabetical = official order
    // classes in order, files sorted within a class: 0000.png, 0001.png, 0002.jpg
    for (let cls = 0; cls < 10; cls++) {
      for (let file = 0; file < 3; file++) {
        const k = cls * 3 + file;
        expect(train.label(k)).toBe(cls);
        const image = train.image(k);
        if (file < 2) {
          for (const [x, y] of [
            [0, 0],
            [31, 2],
            [7, 30],
          ] as const) {
            for (let c = 0; c < 3; c++) expect(image[(y * 32 + x) * 3 + c]).toBe(treePixel(cls, file, x, y, c));
          }
        } else {
          const colour = treeColour(cls, file);
          for (let c = 0; c < 3; c++) expect(Math.abs((image[(5 * 32 + 9) * 3 + c] as number) - colour[c]!)).toBeLessThanOrEqual(2);
        }
      }
      expect(test.label(cls)).toBe(cls);
    }
  }

  // Listed in a scrambled order: the loader sorts classes itself.
  const scrambled = ['truck', 'bird', 'airplane', 'ship', 'cat', 'horse', 'deer', 'frog', 'automobile', 'dog'];

  it('reads the .tar.gz as a stream', async () => {
    const archive = join(tempDir(), 'cifar10-images.tar.gz');
    writeFileSync(archive, await tarGzBytes(imageTree(scrambled)));
    const { train, test } = await cifar10.load({ imageArchive: archive });
    await check(train, test);
  });

  it('reads the extracted folder (given its parent)', async () => {
    const root = join(tempDir(), 'extracted');
    for (const f of imageTree(scrambled)) {
      mkdirSync(join(root, f.name, '..'), { recursive: true });
      writeFileSync(join(root, f.name), f.data as Uint8Array);
    }
    const { train, test } = await cifar10.load({ imageFolder: root });
    await check(train, test);
  });

  it('rejects a tree whose classes are not the CIFAR-10 classes', async () => {
    const archive = join(tempDir(), 'wrong.tar.gz');
    writeFileSync(archive, await tarGzBytes(imageTree([...OFFICIAL_NAMES.slice(0, 9), 'zebra'])));
    const e = await error(cifar10.load({ imageArchive: archive }));
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toBe(`${archive}: the class folders of cifar10-jpeg/train/ must match classNames; missing: truck; unexpected: zebra`);
  });
});
