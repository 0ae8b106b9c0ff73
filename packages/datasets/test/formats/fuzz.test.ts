// Property tests: every parser, fed random, truncated or corrupted bytes, returns a valid result
// or throws a BnlabError; never another exception, never a hang (each test has a time limit).
// The decompressing paths also never produce more than their header declares. Set
// BNLAB_FUZZ_RUNS=<n> to run every property n times (a longer search; the default is quick).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { BnlabError } from '@bnlab/core';
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import { readCifarBinary, readCifarMeta } from '../../src/formats/cifar_binary.js';
import { decodeImage } from '../../src/formats/image.js';
import { parseIdx, readIdxImages, readIdxLabels } from '../../src/formats/idx.js';
import { maxGunzippedBytes } from '../../src/formats/gzip.js';
import { decodePng } from '../../src/formats/png.js';
import type { Inflate } from '../../src/formats/png.js';
import { idxSizeLimit } from '../../src/formats/idx.js';
import { readTar } from '../../src/formats/tar.js';
import { gunzipNode, inflateNode } from '../../src/node/decompress.js';
import { archiveChunksWeb } from '../../src/web/archive_chunks_web.js';
import { gunzipWeb, inflateWeb } from '../../src/web/decompress.js';
import { jpegDeclaring } from '../support/bombs.js';
import { idxBytes } from '../support/idx_bytes.js';
import { chunk, ihdr, pngOf } from '../support/png_writer.js';
import { cifarBatch, cifarRecord, recordPixel } from '../support/cifar_bytes.js';
import { idxImages, idxLabels } from '../support/idx_bytes.js';
import { chunked, tarBytes, tarGzBytes } from '../support/tar_bytes.js';
import { corruptedBytes, FuzzOutcomes, fuzzParameters, fuzzTimeLimit } from '../../../../test-support/fuzz.js';

const fixture = (name: string) => new Uint8Array(readFileSync(join(__dirname, '..', 'fixtures', 'images', name)));

const outcomes = new FuzzOutcomes((e) => e instanceof BnlabError);

/** Runs `parse`; a thrown non-BnlabError fails the property. */
const typedOrValid = (parse: () => unknown): Promise<'ok' | 'error'> => outcomes.of(parse);

beforeEach(() => outcomes.reset());

afterEach(() => {
  // The inputs reach both outcomes: valid files (untouched or harmlessly changed) and errors.
  expect(outcomes.ok).toBeGreaterThan(0);
  expect(outcomes.error).toBeGreaterThan(0);
});

/** Random bytes, truncations of `valid`, and copies of `valid` with a few bytes changed. */
const inputs = (valid: Uint8Array): fc.Arbitrary<Uint8Array> => corruptedBytes(valid);

/**
 * fast-check parameters: `numRuns` random inputs after the unchanged valid input, so every run
 * reaches the valid outcome whatever the random seed draws (a run of 150 corrupted gzip files
 * can hold no harmless change at all).
 */
const runs = <T extends unknown[]>(numRuns: number, ...valid: T) => fuzzParameters(numRuns, [valid]);

/** A test's time limit: generous in the long mode. */
const limit = fuzzTimeLimit;

/** A decompressor wrapped to check it never returns more than the cap it was given. */
function checkedCap(inflate: Inflate): Inflate {
  return async (data, maxBytes) => {
    const out = await inflate(data, maxBytes);
    expect(out.length).toBeLessThanOrEqual(maxBytes);
    return out;
  };
}

/** PNG colour types with their allowed bit depths (the PNG specification's table). */
const PNG_FORMATS: readonly [number, number][] = [
  [0, 1],
  [0, 2],
  [0, 4],
  [0, 8],
  [0, 16],
  [2, 8],
  [2, 16],
  [3, 1],
  [3, 2],
  [3, 4],
  [3, 8],
  [4, 8],
  [4, 16],
  [6, 8],
  [6, 16],
];

describe('parsers under random, truncated and corrupted input', () => {
  const images = idxImages(3, 4, 5, (i, r, c) => (i + r * c) % 256);
  const labels = idxLabels([1, 2, 3]);
  const cifar = cifarBatch([cifarRecord(1, recordPixel(1)), cifarRecord(2, recordPixel(2))]);

  it(
    'IDX readers',
    async () => {
      await fc.assert(
        fc.asyncProperty(inputs(images), async (bytes) => {
          await typedOrValid(() => parseIdx(bytes, 'x'));
          const r = await typedOrValid(() => readIdxImages(bytes, 'x'));
          if (r === 'ok') {
            const im = readIdxImages(bytes, 'x');
            expect(im.pixels.length).toBe(im.count * im.rows * im.cols);
          }
        }),
        runs(300, images),
      );
      await fc.assert(
        fc.asyncProperty(inputs(labels), async (bytes) => {
          await typedOrValid(() => readIdxLabels(bytes, 'x', 10));
        }),
        runs(300, labels),
      );
    },
    limit(30000),
  );

  it(
    'gzip, in Node and with DecompressionStream',
    async () => {
      const gz = new Uint8Array(gzipSync(images));
      await fc.assert(
        fc.asyncProperty(inputs(gz), async (bytes) => {
          await typedOrValid(() => gunzipNode(bytes, 'x.gz'));
          await typedOrValid(() => gunzipWeb(bytes, 'x.gz'));
        }),
        runs(150, gz),
      );
    },
    limit(30000),
  );

  it(
    'CIFAR-10 binary and meta readers',
    async () => {
      await fc.assert(
        fc.asyncProperty(inputs(cifar), async (bytes) => {
          const r = await typedOrValid(() => readCifarBinary(bytes, 'x.bin'));
          if (r === 'ok') expect(bytes.length % 3073).toBe(0);
          await typedOrValid(() => readCifarMeta(bytes, 'meta', 10));
        }),
        runs(100, cifar),
      );
    },
    limit(30000),
  );

  it(
    'tar reader',
    async () => {
      const archive = await tarBytes([
        { name: 'd/', type: 'directory' },
        { name: 'd/a', data: new Uint8Array(700).fill(3) },
        { name: `d/${'x'.repeat(150)}`, data: new Uint8Array(10).fill(4) },
      ]);
      await fc.assert(
        fc.asyncProperty(inputs(archive), fc.integer({ min: 1, max: 1024 }), async (bytes, chunk) => {
          await typedOrValid(async () => {
            for await (const e of readTar(chunked(bytes, chunk), 'x.tar')) expect(e.data.length).toBeLessThanOrEqual(e.size);
          });
        }),
        runs(300, archive, 512),
      );
    },
    limit(30000),
  );

  it(
    'PNG and JPEG decoders',
    async () => {
      const inflate = (b: Uint8Array) => inflateSync(b);
      for (const name of ['rgb8-filter4.png', 'rgb8-interlaced.png', 'palette8.png', 'gray2.png', 'solid.jpg', 'gray.jpg']) {
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
          runs(120, valid),
        );
      }
    },
    limit(40000),
  );

  it(
    'PNG image data is never inflated past the size its header declares, in Node and on the web',
    async () => {
      // Generated PNGs: a small random header (a valid or random colour type and depth, maybe a
      // palette, maybe interlaced) over zlib data of any length, from far too short to a bomb.
      const generated = fc
        .record({
          width: fc.integer({ min: 0, max: 40 }),
          height: fc.integer({ min: 0, max: 40 }),
          format: fc.oneof(fc.constantFrom(...PNG_FORMATS), fc.tuple(fc.nat({ max: 8 }), fc.nat({ max: 17 }))),
          interlace: fc.nat({ max: 2 }),
          palette: fc.boolean(),
          rawLength: fc.oneof(fc.nat({ max: 8000 }), fc.integer({ min: 1 << 16, max: 1 << 22 })),
          fill: fc.nat({ max: 255 }),
          streams: fc.integer({ min: 1, max: 2 }),
        })
        .map(({ width, height, format, interlace, palette, rawLength, fill, streams }) => {
          const header = ihdr(width, height, format[1], format[0]);
          header[12] = interlace;
          const raw = new Uint8Array(rawLength).fill(fill);
          const idat = Array.from({ length: streams }, () => chunk('IDAT', new Uint8Array(deflateSync(raw))));
          const plte = palette ? [chunk('PLTE', new Uint8Array(48).fill(fill))] : [];
          return pngOf([chunk('IHDR', header), ...plte, ...idat, chunk('IEND', new Uint8Array(0))]);
        });
      const valid = fixture('rgb8-interlaced.png');
      for (const inflate of [checkedCap(inflateNode), checkedCap(inflateWeb)]) {
        await fc.assert(
          fc.asyncProperty(fc.oneof(inputs(valid), generated), async (bytes) => {
            const r = await typedOrValid(() => decodePng(bytes, 'x.png', inflate));
            if (r === 'ok') {
              const im = await decodePng(bytes, 'x.png', inflate);
              expect(im.data.length).toBe(im.width * im.height * im.channels);
            }
          }),
          runs(100, valid),
        );
      }
    },
    limit(30000),
  );

  it(
    'IDX .gz files never decompress past the size their header declares, in Node and on the web',
    async () => {
      // A random header (rank 1 to 3, small dimensions) over a body that may be too short, exact,
      // a little or a lot too long, gzipped; and random changes to the compressed bytes.
      const generated = fc
        .record({
          shape: fc.array(fc.nat({ max: 30 }), { minLength: 1, maxLength: 3 }),
          extra: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 1 << 16, max: 1 << 22 })),
        })
        .map(({ shape, extra }) => {
          const declared = shape.reduce((p, d) => p * d, 1);
          return new Uint8Array(gzipSync(idxBytes(0x08, shape, new Uint8Array(Math.max(0, declared + extra)).fill(1))));
        });
      const valid = new Uint8Array(gzipSync(images));
      await fc.assert(
        fc.asyncProperty(fc.oneof(inputs(valid), generated), async (bytes) => {
          const declared = (() => {
            try {
              return gunzipSync(bytes);
            } catch {
              return undefined;
            }
          })();
          for (const gunzip of [gunzipNode, gunzipWeb]) {
            const source = 'x-idx3-ubyte.gz';
            const capped = () => gunzip(bytes, source, idxSizeLimit(source, maxGunzippedBytes(bytes.length)));
            if ((await typedOrValid(capped)) === 'ok') {
              const out = await capped();
              // What it returns is the whole file, complete (zlib agrees) and no longer than its header says.
              expect(declared).toBeDefined();
              expect(Buffer.from(out).equals(declared as Buffer)).toBe(true);
              await typedOrValid(() => parseIdx(out, source));
            }
          }
        }),
        runs(100, valid),
      );
    },
    limit(30000),
  );

  it(
    'JPEG frames over maxPixels, or of size 0, never reach jpeg-js',
    async () => {
      const maxPixels = 4096;
      const decode = jest.spyOn(jpeg, 'decode');
      try {
        const generated = fc.tuple(fc.nat({ max: 0xffff }), fc.nat({ max: 0xffff })).map(([h, w]) => jpegDeclaring(h, w));
        const valid = fixture('solid.jpg');
        await fc.assert(
          fc.asyncProperty(fc.oneof(inputs(valid), generated), async (bytes) => {
            decode.mockClear();
            await typedOrValid(() => decodeImage(bytes, 'x.jpg', 3, inflateNode, { maxPixels }));
            const sof = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc0);
            const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
            if (sof > 0 && sof + 9 <= bytes.length && bytes.subarray(2, sof).every((b, i) => b === valid[2 + i])) {
              // The segments before the frame header are intact, so the frame header is the one read.
              const pixels = view.getUint16(sof + 5) * view.getUint16(sof + 7);
              if (pixels === 0 || pixels > maxPixels) expect(decode).not.toHaveBeenCalled();
            }
          }),
          runs(150, valid),
        );
      } finally {
        decode.mockRestore();
      }
    },
    limit(30000),
  );

  it(
    'a .tar.gz read through DecompressionStream is accepted only when its gzip stream is complete',
    async () => {
      const valid = await tarGzBytes([
        { name: 'd/a', data: new Uint8Array(700).fill(3) },
        { name: 'd/b', data: new Uint8Array(10).fill(4) },
      ]);
      await fc.assert(
        fc.asyncProperty(inputs(valid), async (bytes) => {
          const read = async () => {
            for await (const e of readTar(archiveChunksWeb(bytes, 'x.tar.gz'), 'x.tar.gz')) expect(e.data.length).toBe(e.size);
          };
          if ((await typedOrValid(read)) === 'ok' && bytes[0] === 0x1f && bytes[1] === 0x8b) {
            expect(() => gunzipSync(bytes)).not.toThrow(); // zlib agrees the stream is whole
          }
        }),
        runs(150, valid),
      );
    },
    limit(30000),
  );
});
