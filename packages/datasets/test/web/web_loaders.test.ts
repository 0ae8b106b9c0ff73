// The browser entry's loaders (fetch, DecompressionStream, Web Crypto) run in Node too: tested
// here against the local server.
import { createHash } from 'node:crypto';
import { isBnlabError } from '@bnlab/core';
import { loadCifar10Web } from '../../src/web/load_cifar10_web.js';
import { loadIdxWeb } from '../../src/web/load_idx_web.js';
import { loadImageArchiveWeb } from '../../src/web/load_image_archive_web.js';
import { fetchVerified } from '../../src/web/fetch_verified.js';
import { cifarFixtureFiles, cifarTarGz, OFFICIAL_NAMES } from '../support/cifar_fixture.js';
import { recordPixel } from '../support/cifar_bytes.js';
import { startServer } from '../support/http_server.js';
import type { TestServer } from '../support/http_server.js';
import { FIXTURE_TRAIN_LABELS, idxFixtureFiles, idxFixtureSpec } from '../support/idx_fixture.js';
import { imageTree, treePixel } from '../support/image_tree.js';
import { tarGzBytes } from '../support/tar_bytes.js';
import { bufferGrowth, gzipBomb } from '../support/bombs.js';
import { idxImages } from '../support/idx_bytes.js';

const files = idxFixtureFiles();
const fast = { retries: 1, backoffMs: 5, idleTimeoutMs: 2000 };
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let server: TestServer;
let archive: Uint8Array;
let images: Uint8Array;
let emptyClass: Uint8Array;
// One 28×28 image (800 bytes with the header), then 64 MiB of zeros.
const bombFiles = {
  ...files,
  'train-images-idx3-ubyte.gz': gzipBomb(
    idxImages(1, 28, 28, () => 7),
    64 << 20,
  ),
};

beforeAll(async () => {
  archive = await cifarTarGz();
  images = await tarGzBytes(imageTree(OFFICIAL_NAMES));
  // class folder b holds no JPEG or PNG image
  emptyClass = await tarGzBytes([
    ...imageTree(['a', 'c']),
    { name: 'cifar10-jpeg/train/b/0000.webp', data: new Uint8Array(8) },
    { name: 'cifar10-jpeg/test/b/', type: 'directory' },
  ]);
  const cifarFiles = Object.fromEntries(Object.entries(cifarFixtureFiles()).map(([name, body]) => [`bin/${name}`, { body }]));
  server = await startServer({
    ...Object.fromEntries(Object.entries(files).map(([name, body]) => [name, { body }])),
    ...Object.fromEntries(Object.entries(files).map(([name, body]) => [`bad/${name}`, { body, behaviour: 'corrupt' as const }])),
    ...cifarFiles,
    'cifar-10-binary.tar.gz': { body: archive },
    'images.tar.gz': { body: images },
    'empty-class.tar.gz': { body: emptyClass },
    'drop.bin': { body: archive, behaviour: 'drop' },
    ...Object.fromEntries(Object.entries(bombFiles).map(([name, body]) => [`bomb/${name}`, { body }])),
  });
});
afterAll(() => server.close());

describe('web loaders', () => {
  it('stop decompressing an IDX .gz at the size its header declares', async () => {
    let error: unknown;
    const growth = await bufferGrowth(() =>
      loadIdxWeb(idxFixtureSpec(bombFiles), { baseUrl: `${server.url}bomb/`, ...fast }).catch((e: unknown) => {
        error = e;
      }),
    );
    expect(isBnlabError(error, 'DATA_FORMAT')).toBe(true);
    expect((error as Error).message).toBe(
      `${server.url}bomb/train-images-idx3-ubyte.gz: decompresses to more than 800 bytes, the size its IDX header declares`,
    );
    expect(growth).toBeLessThan(8 << 20);
  });

  it('fetch, verify, gunzip and parse an IDX dataset', async () => {
    const { train, test } = await loadIdxWeb(idxFixtureSpec(files), { baseUrl: server.url, ...fast });
    expect([train.size, test.size]).toEqual([5, 3]);
    expect(Array.from({ length: 5 }, (_, i) => train.label(i))).toEqual(FIXTURE_TRAIN_LABELS);
    expect(train.image(4)[0]).toBe(41);
  });

  it('reject corrupt bytes with CHECKSUM_MISMATCH and a dropped connection with DOWNLOAD_FAILED', async () => {
    const e = await loadIdxWeb(idxFixtureSpec(files), { baseUrl: `${server.url}bad/`, ...fast }).catch((x: unknown) => x);
    expect(isBnlabError(e, 'CHECKSUM_MISMATCH')).toBe(true);
    expect((e as Error).message).toContain(`${server.url}bad/train-images-idx3-ubyte.gz: SHA-256 is`);
    const d = await fetchVerified(`${server.url}drop.bin`, undefined, fast).catch((x: unknown) => x);
    expect(isBnlabError(d, 'DOWNLOAD_FAILED')).toBe(true);
  });

  it('read CIFAR-10 from the archive or from its separate files, with known pixels', async () => {
    const fromArchive = await loadCifar10Web({
      baseUrl: server.url,
      sha256: { 'cifar-10-binary.tar.gz': sha256(archive) },
      ...fast,
    });
    const fromFiles = await loadCifar10Web({ baseUrl: `${server.url}bin`, layout: 'files', ...fast });
    for (const { train, test } of [fromArchive, fromFiles]) {
      expect([train.size, test.size]).toEqual([10, 3]);
      expect(train.label(7)).toBe(7);
      expect(train.image(7)[(3 * 32 + 4) * 3 + 2]).toBe(recordPixel(7)(4, 3, 2));
      expect(test.classNames).toEqual(OFFICIAL_NAMES);
    }
    // the official checksum guards the default
    const e = await loadCifar10Web({ baseUrl: server.url, ...fast }).catch((x: unknown) => x);
    expect(isBnlabError(e, 'CHECKSUM_MISMATCH')).toBe(true);
  });

  it('read an image archive in the ImageFolder layout, PNG through DecompressionStream', async () => {
    const { train, test } = await loadImageArchiveWeb(`${server.url}images.tar.gz`, {
      sha256: sha256(images),
      ...fast,
    });
    expect([train!.size, test!.size]).toEqual([30, 10]);
    expect(train!.label(4)).toBe(1); // class 1's 0001.png
    expect(train!.image(4)[(2 * 32 + 3) * 3 + 1]).toBe(treePixel(1, 1, 3, 2, 1));
  });

  it('reject an image archive with a class folder without images, naming it', async () => {
    const url = `${server.url}empty-class.tar.gz`;
    const e = await loadImageArchiveWeb(url, fast).catch((x: unknown) => x);
    expect(isBnlabError(e, 'DATA_MISSING')).toBe(true);
    expect((e as Error).message).toMatch(
      new RegExp(`^${url}: no images in the class folder cifar10-jpeg/train/b/ \\(supported: \\.jpg, \\.jpeg, \\.png\\)`),
    );
  });
});
