import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadIdxNode } from '../../src/node/load_idx_node.js';
import { bufferGrowth, gzipBomb } from '../support/bombs.js';
import { failure } from '../support/failure.js';
import { idxBytes, idxImages, idxLabels } from '../support/idx_bytes.js';
import { idxFixtureFiles, idxFixtureSpec } from '../support/idx_fixture.js';
import { startServer } from '../support/http_server.js';
import { useTempDir } from '../support/temp_dir.js';

const tempDir = useTempDir();
let n = 0;

/** A folder holding the fixture's four files, with `replace` (file name → bytes) instead. */
function folderWith(replace: Record<string, Uint8Array>): string {
  const dir = join(tempDir(), `idx-${n++}`);
  mkdirSync(dir);
  for (const [name, bytes] of Object.entries({ ...idxFixtureFiles(), ...replace })) writeFileSync(join(dir, name), bytes);
  return dir;
}

const spec = idxFixtureSpec(idxFixtureFiles());

describe('IDX files in a folder', () => {
  it('stop decompressing a .gz at the size its header declares (a 64 MiB bomb behind one image)', async () => {
    // One 28×28 image (800 bytes with the header), then 64 MiB of zeros, in a 65 kB file.
    const dir = folderWith({
      'train-images-idx3-ubyte.gz': gzipBomb(
        idxImages(1, 28, 28, () => 7),
        64 << 20,
      ),
    });
    let error: unknown;
    const growth = await bufferGrowth(() =>
      loadIdxNode(spec, [], { folder: dir }).catch((e: unknown) => {
        error = e;
      }),
    );
    expect((error as { code?: string }).code).toBe('DATA_FORMAT');
    expect((error as Error).message).toBe(
      `${join(dir, 'train-images-idx3-ubyte.gz')}: decompresses to more than 800 bytes, the size its IDX header declares`,
    );
    expect(growth).toBeLessThan(8 << 20);
  });

  it('refuse a .gz whose header declares more than its compressed size can hold, without inflating it', async () => {
    const header = idxBytes(0x08, [60000, 28, 28], []);
    const dir = folderWith({ 'train-images-idx3-ubyte.gz': new Uint8Array(gzipSync(header)) });
    const e = await failure(loadIdxNode(spec, [], { folder: dir }));
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toMatch(
      /train-images-idx3-ubyte\.gz: is truncated: its header declares shape \[60000, 28, 28\] of uint8, 47040016 bytes, more than the \d+ its compressed size can hold$/,
    );
  });

  it('refuse a split of 0 examples, naming the file, instead of loading an empty dataset', async () => {
    const gz = (b: Uint8Array) => new Uint8Array(gzipSync(b));
    const dir = folderWith({
      'train-images-idx3-ubyte.gz': gz(idxImages(0, 28, 28, () => 0)),
      'train-labels-idx1-ubyte.gz': gz(idxLabels([])),
    });
    const e = await failure(loadIdxNode(spec, [], { folder: dir }));
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toBe(`${join(dir, 'train-images-idx3-ubyte.gz')}: holds 0 images (shape [0, 28, 28]); a dataset needs at least one`);
  });
});

describe('IDX downloads', () => {
  it('take idleTimeoutMs and timeoutMs from the load options', async () => {
    const files = idxFixtureFiles();
    const server = await startServer({
      'stall/train-images-idx3-ubyte.gz': { body: files['train-images-idx3-ubyte.gz'] as Uint8Array, behaviour: 'stall' },
      'trickle/train-images-idx3-ubyte.gz': {
        body: files['train-images-idx3-ubyte.gz'] as Uint8Array,
        behaviour: 'trickle',
      },
    });
    try {
      const options = (folder: string) => ({ baseUrl: `${server.url}${folder}/`, cacheDir: join(tempDir(), folder), retries: 0 });
      const silent = await failure(loadIdxNode(spec, [], { ...options('stall'), idleTimeoutMs: 150, timeoutMs: 5000 }));
      expect(silent.code).toBe('DOWNLOAD_FAILED');
      expect(silent.message).toMatch(/stall\/train-images-idx3-ubyte\.gz: no data for 150 ms after 10 of \d+ bytes$/);
      const slow = await failure(loadIdxNode(spec, [], { ...options('trickle'), idleTimeoutMs: 5000, timeoutMs: 200 }));
      expect(slow.message).toMatch(
        /trickle\/train-images-idx3-ubyte\.gz: not complete after 200 ms, the time allowed \(timeoutMs\) after \d+ of \d+ bytes$/,
      );
    } finally {
      await server.close();
    }
  });
});
