import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { isBnlabError } from '@bnlab/core';
import { decodeImage } from '../../src/formats/image.js';
import { PATTERN_HEIGHT, PATTERN_WIDTH, patternGray, patternImage, patternRgb } from '../support/patterns.js';

const fixture = (name: string) => new Uint8Array(readFileSync(join(__dirname, '..', 'fixtures', 'images', name)));
const inflate = (b: Uint8Array) => inflateSync(b);

describe('image decoder', () => {
  it('decodes a JPEG written by ImageMagick (quality 100) close to its solid colour', async () => {
    const image = await decodeImage(fixture('solid.jpg'), 'solid.jpg', 3, inflate);
    expect([image.width, image.height, image.channels]).toEqual([8, 8, 3]);
    for (let p = 0; p < 64; p++) {
      // the source colour is (200, 40, 90); JPEG's colour conversion rounds by a unit or two
      expect(Math.abs((image.data[3 * p] as number) - 200)).toBeLessThanOrEqual(2);
      expect(Math.abs((image.data[3 * p + 1] as number) - 40)).toBeLessThanOrEqual(2);
      expect(Math.abs((image.data[3 * p + 2] as number) - 90)).toBeLessThanOrEqual(2);
    }
  });

  it('repeats a gray JPEG over three channels, or keeps one', async () => {
    const three = await decodeImage(fixture('gray.jpg'), 'gray.jpg', 3, inflate);
    const one = await decodeImage(fixture('gray.jpg'), 'gray.jpg', 1, inflate);
    expect(one.channels).toBe(1);
    for (let p = 0; p < PATTERN_WIDTH * PATTERN_HEIGHT; p++) {
      expect(three.data[3 * p]).toBe(one.data[p]);
      expect(three.data[3 * p + 2]).toBe(one.data[p]);
      const [x, y] = [p % PATTERN_WIDTH, Math.floor(p / PATTERN_WIDTH)];
      expect(Math.abs((one.data[p] as number) - patternGray(x, y))).toBeLessThanOrEqual(3);
    }
  });

  it("converts RGB to gray with PIL's luma weights", async () => {
    const gray = await decodeImage(fixture('rgb8-filter0.png'), 'rgb.png', 1, inflate);
    // PIL: L = R * 299/1000 + G * 587/1000 + B * 114/1000, rounded
    const expected = patternImage(1, (x, y) => {
      const [r, g, b] = patternRgb(x, y);
      return Math.round((r * 299 + g * 587 + b * 114) / 1000);
    });
    const diff = Array.from(gray.data).map((v, i) => Math.abs(v - (expected[i] as number)));
    expect(Math.max(...diff)).toBeLessThanOrEqual(1);
    expect(gray.channels).toBe(1);
  });

  it('rejects bytes that are neither JPEG nor PNG, and a broken JPEG, naming the file', async () => {
    await expect(decodeImage(new Uint8Array([1, 2, 3, 4]), 'x.jpg', 3, inflate)).rejects.toThrow('x.jpg: is neither a JPEG nor a PNG file');
    const jpeg = fixture('solid.jpg');
    const e = await decodeImage(jpeg.subarray(0, 200), 'cut.jpg', 3, inflate).catch((x: unknown) => x);
    expect(isBnlabError(e, 'DATA_FORMAT')).toBe(true);
    expect((e as Error).message).toMatch(/^cut.jpg: is not a valid JPEG file/);
  });
});
