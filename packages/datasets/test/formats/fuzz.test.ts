// Property tests: every parser, fed random, truncated or corrupted bytes, returns a valid result
// or throws a BnlabError; never another exception, never a hang (each test has a time limit).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { gzipSync } from 'node:zlib';
import { BnlabError } from '@bnlab/core';
import fc from 'fast-check';
import { readCifarBinary, readCifarMeta } from '../../src/formats/cifar_binary.js';
import { decodeImage } from '../../src/formats/image.js';
import { parseIdx, readIdxImages, readIdxLabels } from '../../src/formats/idx.js';
import { decodePng } from '../../src/formats/png.js';
import { readTar } from '../../src/formats/tar.js';
import { gunzipNode } from '../../src/node/decompress.js';
import { gunzipWeb } from '../../src/web/decompress.js';
import { cifarBatch, cifarRecord, recordPixel } from '../support/cifar_bytes.js';
import { idxImages, idxLabels } from '../support/idx_bytes.js';
import { chunked, tarBytes } from '../support/tar_bytes.js';

const fixture = (name: string) => new Uint8Array(readFileSync(join(__dirname, '..', 'fixtures', 'images', name)));

const outcomes = { ok: 0, error: 0 };

/** Runs `parse`; a thrown non-BnlabError fails the property. */
async function typedOrValid(parse: () => unknown): Promise<'ok' | 'error'> {
  try {
    await parse();
    outcomes.ok++;
    return 'ok';
  } catch (e) {
    if (e instanceof BnlabError) {
      outcomes.error++;
      return 'error';
    }
    throw e;
  }
}

beforeEach(() => {
  outcomes.ok = 0;
  outcomes.error = 0;
});

afterEach(() => {
  // The inputs reach both outcomes: valid files (untouched or harmlessly changed) and errors.
  expect(outcomes.ok).toBeGreaterThan(0);
  expect(outcomes.error).toBeGreaterThan(0);
});

/** Random bytes, truncations of `valid`, and copies of `valid` with a few bytes changed. */
function inputs(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 2048 }),
    fc.nat({ max: valid.length }).map((n) => valid.slice(0, n)),
    fc
      .array(fc.tuple(fc.nat({ max: Math.max(0, valid.length - 1) }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      })
      .map((changes) => {
        const copy = valid.slice();
        for (const [at, value] of changes) copy[at] = value;
        return copy;
      })
  );
}

/**
 * fast-check parameters: `numRuns` random inputs after the unchanged valid input, so every run
 * reaches the valid outcome whatever the random seed draws (a run of 150 corrupted gzip files
 * can hold no harmless change at all).
 */
const runs = <T extends unknown[]>(numRuns: number, ...valid: T) => ({ numRuns, examples: [valid] });

describe('parsers under random, truncated and corrupted input', () => {
  const images = idxImages(3, 4, 5, (i, r, c) => (i + r * c) % 256);
  const labels = idxLabels([1, 2, 3]);
  const cifar = cifarBatch([cifarRecord(1, recordPixel(1)), cifarRecord(2, recordPixel(2))]);

  it('IDX readers', async () => {
    await fc.assert(
      fc.asyncProperty(inputs(images), async (bytes) => {
        await typedOrValid(() => parseIdx(bytes, 'x'));
        const r = await typedOrValid(() => readIdxImages(bytes, 'x'));
        if (r === 'ok') {
          const im = readIdxImages(bytes, 'x');
          expect(im.pixels.length).toBe(im.count * im.rows * im.cols);
        }
      }),
      runs(300, images)
    );
    await fc.assert(
      fc.asyncProperty(inputs(labels), async (bytes) => {
        await typedOrValid(() => readIdxLabels(bytes, 'x', 10));
      }),
      runs(300, labels)
    );
  }, 30000);

  it('gzip, in Node and with DecompressionStream', async () => {
    const gz = new Uint8Array(gzipSync(images));
    await fc.assert(
      fc.asyncProperty(inputs(gz), async (bytes) => {
        await typedOrValid(() => gunzipNode(bytes, 'x.gz'));
        await typedOrValid(() => gunzipWeb(bytes, 'x.gz'));
      }),
      runs(150, gz)
    );
  }, 30000);

  it('CIFAR-10 binary and meta readers', async () => {
    await fc.assert(
      fc.asyncProperty(inputs(cifar), async (bytes) => {
        const r = await typedOrValid(() => readCifarBinary(bytes, 'x.bin'));
        if (r === 'ok') expect(bytes.length % 3073).toBe(0);
        await typedOrValid(() => readCifarMeta(bytes, 'meta', 10));
      }),
      runs(100, cifar)
    );
  }, 30000);

  it('tar reader', async () => {
    const archive = await tarBytes([
      { name: 'd/', type: 'directory' },
      { name: 'd/a', data: new Uint8Array(700).fill(3) },
      { name: `d/${'x'.repeat(150)}`, data: new Uint8Array(10).fill(4) },
    ]);
    await fc.assert(
      fc.asyncProperty(inputs(archive), fc.integer({ min: 1, max: 1024 }), async (bytes, chunk) => {
        await typedOrValid(async () => {
          for await (const e of readTar(chunked(bytes, chunk), 'x.tar'))
            expect(e.data.length).toBeLessThanOrEqual(e.size);
        });
      }),
      runs(300, archive, 512)
    );
  }, 30000);

  it('PNG and JPEG decoders', async () => {
    const inflate = (b: Uint8Array) => inflateSync(b);
    for (const name of [
      'rgb8-filter4.png',
      'rgb8-interlaced.png',
      'palette8.png',
      'gray2.png',
      'solid.jpg',
      'gray.jpg',
    ]) {
      const valid = fixture(name);
      await fc.assert(
        fc.asyncProperty(inputs(valid), async (bytes) => {
          const r = await typedOrValid(() => decodeImage(bytes, name, 3, inflate));
          if (r === 'ok') {
            const im = await decodeImage(bytes, name, 3, inflate);
            expect(im.data.length).toBe(im.width * im.height * 3);
          }
          if (name.endsWith('.png')) await typedOrValid(() => decodePng(bytes, name, inflate));
        }),
        runs(120, valid)
      );
    }
  }, 40000);
});
