import { gzipSync } from 'node:zlib';
import { isBnlabError } from '@bnlab/core';
import { parseIdx, readIdxImages, readIdxLabels } from '../../src/formats/idx.js';
import { isGzip } from '../../src/formats/gzip.js';
import { idxBytes, idxImages, idxLabels } from '../support/idx_bytes.js';

function formatError(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    expect(isBnlabError(e, 'DATA_FORMAT')).toBe(true);
    return e as Error;
  }
  throw new Error('expected a DATA_FORMAT error');
}

describe('IDX reader', () => {
  it('reads images row-major with their dimensions, and labels', () => {
    const bytes = idxImages(3, 2, 4, (i, r, c) => i * 100 + r * 10 + c);
    // the magic number of an image file, written by hand: 0x00000803 = 2051
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0, 0, 8, 3]);
    const images = readIdxImages(bytes, 'imgs');
    expect([images.count, images.rows, images.cols]).toEqual([3, 2, 4]);
    expect(images.pixels[0]).toBe(0);
    expect(images.pixels[1 * 8 + 1 * 4 + 3]).toBe(113); // image 1, row 1, col 3
    expect(images.pixels[2 * 8 + 0 * 4 + 2]).toBe(202);
    expect(Array.from(readIdxLabels(idxLabels([7, 0, 9]), 'lbls', 10))).toEqual([7, 0, 9]);
  });

  it('reads big-endian int16, int32, float32 and float64 values', () => {
    const be = new DataView(new ArrayBuffer(16));
    be.setInt16(0, -2);
    be.setInt16(2, 300);
    expect(Array.from(parseIdx(idxBytes(0x0b, [2], new Uint8Array(be.buffer, 0, 4)), 'x').data)).toEqual([-2, 300]);
    be.setInt32(0, -70000);
    be.setInt32(4, 123456789);
    expect(Array.from(parseIdx(idxBytes(0x0c, [2], new Uint8Array(be.buffer, 0, 8)), 'x').data)).toEqual([-70000, 123456789]);
    be.setFloat32(0, 1.5);
    be.setFloat32(4, -0.25);
    const f = parseIdx(idxBytes(0x0d, [1, 2], new Uint8Array(be.buffer, 0, 8)), 'x');
    expect(f.dtype).toBe('float32');
    expect(f.shape).toEqual([1, 2]);
    expect(Array.from(f.data)).toEqual([1.5, -0.25]);
    be.setFloat64(0, Math.PI);
    expect(Array.from(parseIdx(idxBytes(0x0e, [1], new Uint8Array(be.buffer, 0, 8)), 'x').data)).toEqual([Math.PI]);
    expect(Array.from(parseIdx(idxBytes(0x09, [2], [0xff, 0x01]), 'x').data)).toEqual([-1, 1]);
  });

  it('tells gzip from plain IDX by the first bytes', () => {
    const plain = idxLabels([1, 2]);
    expect(isGzip(plain)).toBe(false);
    expect(isGzip(gzipSync(plain))).toBe(true);
  });

  it('rejects a wrong magic number, naming the file and the expected magic', () => {
    const e = formatError(() => readIdxImages(new Uint8Array([1, 2, 3, 4, 0, 0, 0, 0]), 'train-images-idx3-ubyte'));
    expect(e.message).toContain('train-images-idx3-ubyte');
    expect(e.message).toMatch(/wrong IDX magic number/);
    // a label file given as images: right format, wrong rank
    const labelsAsImages = formatError(() => readIdxImages(idxLabels([1, 2, 3]), 'train-images-idx3-ubyte'));
    expect(labelsAsImages.message).toContain('2049');
    expect(labelsAsImages.message).toContain('must have magic 2051');
    const imagesAsLabels = formatError(() =>
      readIdxLabels(
        idxImages(1, 2, 2, () => 0),
        'train-labels-idx1-ubyte',
      ),
    );
    expect(imagesAsLabels.message).toContain('must have magic 2049');
    // gzip bytes given to the plain parser
    expect(formatError(() => parseIdx(gzipSync(idxLabels([1])), 'l.gz')).message).toMatch(/magic/);
  });

  it('rejects a wrong rank and a type code that IDX does not define', () => {
    expect(formatError(() => readIdxImages(idxBytes(0x08, [2, 4], new Uint8Array(8)), 'img')).message).toContain('rank 2');
    expect(formatError(() => parseIdx(idxBytes(0x0a, [1], [0]), 'odd')).message).toMatch(/type code/);
    expect(formatError(() => parseIdx(new Uint8Array([0, 0, 8, 0]), 'r0')).message).toMatch(/rank 0/);
  });

  it('rejects truncated headers and data, and bytes after the data, with the sizes', () => {
    const full = idxImages(2, 3, 3, () => 5);
    expect(formatError(() => readIdxImages(full.subarray(0, 10), 'img')).message).toMatch(
      /truncated: its rank-3 header needs 16 bytes, the file has 10/,
    );
    const cut = formatError(() => readIdxImages(full.subarray(0, full.length - 1), 'img'));
    expect(cut.message).toMatch(/needs 18 bytes of data .* the file has 17/);
    const long = new Uint8Array(full.length + 2);
    long.set(full);
    expect(formatError(() => readIdxImages(long, 'img')).message).toMatch(/has 2 bytes after the data/);
    expect(formatError(() => parseIdx(new Uint8Array([0, 0]), 'tiny')).message).toMatch(/2 bytes long/);
  });

  it('rejects a file of 0 images, images of 0 rows or columns, and 0 labels, naming the file', () => {
    expect(
      formatError(() =>
        readIdxImages(
          idxImages(0, 28, 28, () => 0),
          'empty-images',
        ),
      ).message,
    ).toBe('empty-images: holds 0 images (shape [0, 28, 28]); a dataset needs at least one');
    // [2^31, 0, 28] needs no data at all: it used to read as 2^31 images without pixels
    expect(formatError(() => readIdxImages(idxBytes(0x08, [2 ** 31, 0, 28], []), 'no-rows')).message).toBe(
      'no-rows: holds images of 0×28 pixels (shape [2147483648, 0, 28]); both must be positive',
    );
    expect(formatError(() => readIdxImages(idxBytes(0x08, [5, 28, 0], []), 'no-cols')).message).toMatch(
      /^no-cols: holds images of 28×0 pixels/,
    );
    expect(formatError(() => readIdxLabels(idxLabels([]), 'empty-labels', 10)).message).toBe(
      'empty-labels: holds 0 labels; a dataset needs at least one',
    );
  });

  it('rejects a label out of range, naming its index and value and the allowed range', () => {
    const e = formatError(() => readIdxLabels(idxLabels([0, 9, 10, 3]), 'train-labels-idx1-ubyte', 10));
    expect(e.message).toBe('train-labels-idx1-ubyte: label 10 at index 2 is out of range: labels must be in [0, 10)');
  });
});
