import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { isBnlabError } from '@bnlab/core';
import { decodePng } from '../../src/formats/png.js';
import type { Inflate } from '../../src/formats/png.js';
import { inflateNode } from '../../src/node/decompress.js';
import { inflateWeb } from '../../src/web/decompress.js';
import { bufferGrowth, zlibBomb } from '../support/bombs.js';
import { chunk, ihdr, pngOf } from '../support/png_writer.js';
import { PATTERN_HEIGHT, PATTERN_WIDTH, patternGray, patternGray2, patternImage, patternRgb } from '../support/patterns.js';

// Fixtures written by ImageMagick 6 and OptiPNG (libpng), see fixtures/images/make_fixtures.sh.
const fixture = (name: string) => new Uint8Array(readFileSync(join(__dirname, '..', 'fixtures', 'images', name)));
const inflate = (b: Uint8Array) => inflateSync(b);

describe('PNG decoder', () => {
  const rgb = patternImage(3, patternRgb);

  it.each([0, 1, 2, 3, 4])('decodes 8-bit RGB rows written with filter %i', async (filter) => {
    const image = await decodePng(fixture(`rgb8-filter${filter}.png`), 'f.png', inflate);
    expect([image.width, image.height, image.channels]).toEqual([PATTERN_WIDTH, PATTERN_HEIGHT, 3]);
    expect(Array.from(image.data)).toEqual(Array.from(rgb));
  });

  it.each([
    ['rgb8-interlaced.png', 'Adam7 interlaced RGB'],
    ['rgba8.png', 'RGBA (alpha dropped)'],
    ['palette8.png', 'a palette image'],
    ['rgb16.png', '16-bit RGB (high bytes)'],
  ])('decodes %s: %s', async (name) => {
    const image = await decodePng(fixture(name), name, inflate);
    expect(image.channels).toBe(3);
    expect(Array.from(image.data)).toEqual(Array.from(rgb));
  });

  it.each([
    ['gray8.png', patternGray],
    ['graya8.png', patternGray],
    ['gray2.png', patternGray2],
  ])('decodes gray %s to one channel', async (name, pixel) => {
    const image = await decodePng(fixture(name), name, inflate);
    expect([image.width, image.height, image.channels]).toEqual([PATTERN_WIDTH, PATTERN_HEIGHT, 1]);
    expect(Array.from(image.data)).toEqual(Array.from(patternImage(1, pixel)));
  });

  it('rejects a bad signature, a bad CRC and a truncated file, naming the file', async () => {
    const good = fixture('rgb8-filter4.png');
    const notPng = good.slice();
    notPng[1] = 0;
    await expect(decodePng(notPng, 'a.png', inflate)).rejects.toThrow('a.png: is not a PNG file (wrong signature)');
    const badCrc = good.slice();
    badCrc[20] = (badCrc[20] as number) ^ 1; // inside IHDR's data
    await expect(decodePng(badCrc, 'b.png', inflate)).rejects.toThrow("b.png: has a bad CRC in chunk 'IHDR' at byte 8");
    for (const cut of [10, 33, 40, good.length - 12, good.length - 1]) {
      const e = await decodePng(good.subarray(0, cut), 'c.png', inflate).catch((x: unknown) => x);
      expect(isBnlabError(e, 'DATA_FORMAT')).toBe(true);
      expect((e as Error).message.startsWith('c.png: ')).toBe(true);
    }
  });
});

const zlib = (bytes: number[]) => new Uint8Array(deflateSync(Uint8Array.from(bytes)));

describe('PNG decoder on a decompression bomb', () => {
  // A 1×1 gray image needs 2 bytes of image data (a filter byte and a sample); this IDAT
  // inflates to 64 MiB.
  const bomb = pngOf([chunk('IHDR', ihdr(1, 1, 8, 0)), chunk('IDAT', zlibBomb(64 << 20)), chunk('IEND', new Uint8Array(0))]);

  it.each([
    ['inflateNode', inflateNode],
    ['inflateWeb', inflateWeb],
  ] as const)('with %s, stops at the size the header declares and rejects it', async (_, inflate: Inflate) => {
    const caps: number[] = [];
    const capped: Inflate = (data, maxBytes) => {
      caps.push(maxBytes);
      return inflate(data, maxBytes);
    };
    let error: unknown;
    const growth = await bufferGrowth(() =>
      decodePng(bomb, 'bomb.png', capped).catch((e: unknown) => {
        error = e;
      }),
    );
    expect(isBnlabError(error, 'DATA_FORMAT')).toBe(true);
    expect((error as Error).message).toMatch(
      /^bomb\.png: its image data does not decompress to the 2 bytes its 1×1 header declares \(zlib data: decompresses to more than 2 bytes\)$/,
    );
    expect(caps).toEqual([2]);
    expect(growth).toBeLessThan(8 << 20);
  });

  it('rejects image data that decompresses to more than its size with an inflate that ignores the cap', async () => {
    const uncapped: Inflate = (data) => inflateSync(data);
    const big = pngOf([chunk('IHDR', ihdr(1, 1, 8, 0)), chunk('IDAT', zlibBomb(100)), chunk('IEND', new Uint8Array(0))]);
    await expect(decodePng(big, 'big.png', uncapped)).rejects.toThrow(
      'big.png: has image data that decompresses to more than the 2 bytes its 1×1 header declares',
    );
  });

  it('refuses image data shorter than its header declares before allocating the image', async () => {
    // 4096×4096 RGB is 48 MiB of pixels; this file's image data decompresses to 3 bytes.
    const short = pngOf([chunk('IHDR', ihdr(4096, 4096, 8, 2)), chunk('IDAT', zlib([0, 1, 2])), chunk('IEND', new Uint8Array(0))]);
    let error: unknown;
    const growth = await bufferGrowth(() =>
      decodePng(short, 'short.png', inflateNode).catch((e: unknown) => {
        error = e;
      }),
    );
    expect((error as Error).message).toBe(
      'short.png: is truncated: its image data decompresses to 3 of the 50335744 bytes its 4096×4096 header declares',
    );
    expect(growth).toBeLessThan(8 << 20);
  });

  it('refuses more pixels than maxPixels from the header, before inflating', async () => {
    let called = false;
    const inflate: Inflate = () => {
      called = true;
      return new Uint8Array(0);
    };
    const wide = pngOf([chunk('IHDR', ihdr(5000, 4000, 8, 2)), chunk('IDAT', zlibBomb(10)), chunk('IEND', new Uint8Array(0))]);
    await expect(decodePng(wide, 'wide.png', inflate)).rejects.toThrow(
      'wide.png: has 5000×4000 pixels, more than the 16777216 accepted (maxPixels)',
    );
    await expect(decodePng(wide, 'wide.png', inflate, { maxPixels: 100 })).rejects.toThrow('more than the 100 accepted');
    expect(called).toBe(false);
  });
});

describe('PNG decoder on malformed chunk sequences', () => {
  const end = chunk('IEND', new Uint8Array(0));
  const gray1x1 = chunk('IHDR', ihdr(1, 1, 8, 0));

  it.each([
    ['inflateNode', inflateNode],
    ['inflateWeb', inflateWeb],
  ] as const)('with %s, rejects a second zlib stream or bytes after the first', async (_, inflate: Inflate) => {
    const good = pngOf([gray1x1, chunk('IDAT', zlib([0, 5])), end]);
    expect(Array.from((await decodePng(good, 'good.png', inflate)).data)).toEqual([5]);
    const message = 'has more image data after the end of its zlib stream (a second stream, or trailing bytes)';
    const twoStreams = pngOf([gray1x1, chunk('IDAT', zlib([0, 5])), chunk('IDAT', zlib([0, 6])), end]);
    await expect(decodePng(twoStreams, 'two.png', inflate)).rejects.toThrow(`two.png: ${message}`);
    const trailing = pngOf([gray1x1, chunk('IDAT', Uint8Array.from([...zlib([0, 5]), 0, 0])), end]);
    await expect(decodePng(trailing, 'trailing.png', inflate)).rejects.toThrow(`trailing.png: ${message}`);
  });

  it('rejects two PLTE chunks, a PLTE after IDAT and two IHDR chunks, naming the chunk and its offset', async () => {
    const header = chunk('IHDR', ihdr(1, 1, 8, 3));
    const plte = chunk('PLTE', Uint8Array.from([1, 2, 3]));
    const idat = chunk('IDAT', zlib([0, 0]));
    const at = 8 + header.length;
    await expect(decodePng(pngOf([header, plte, plte, idat, end]), 'p.png', inflateNode)).rejects.toThrow(
      `p.png: has a second PLTE chunk at byte ${at + plte.length}; a PNG has at most one`,
    );
    await expect(decodePng(pngOf([header, idat, plte, end]), 'late.png', inflateNode)).rejects.toThrow(
      `late.png: has its PLTE chunk at byte ${at + idat.length}, after image data; it must come before IDAT`,
    );
    await expect(decodePng(pngOf([header, header, plte, idat, end]), 'h.png', inflateNode)).rejects.toThrow(
      `h.png: has a second IHDR chunk at byte ${at}; a PNG has exactly one`,
    );
    expect(Array.from((await decodePng(pngOf([header, plte, idat, end]), 'ok.png', inflateNode)).data)).toEqual([1, 2, 3]);
  });
});
