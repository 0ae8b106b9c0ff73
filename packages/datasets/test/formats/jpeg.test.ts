import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBnlabError } from '@bnlab/core';
import jpeg from 'jpeg-js';
import { decodeImage, declaredImageSize } from '../../src/formats/image.js';
import { readJpegFrame } from '../../src/formats/jpeg.js';
import { inflateNode } from '../../src/node/decompress.js';
import { bufferGrowth, jpegDeclaring } from '../support/bombs.js';

const fixture = (name: string) => new Uint8Array(readFileSync(join(__dirname, '..', 'fixtures', 'images', name)));

const declaring = jpegDeclaring;

describe('JPEG frame header', () => {
  it('is read without decoding, past the APP0 and DQT segments', () => {
    expect(readJpegFrame(fixture('solid.jpg'))).toEqual({ width: 8, height: 8, components: 3 });
    expect(readJpegFrame(fixture('gray.jpg'))).toMatchObject({ components: 1 });
    expect(declaredImageSize(declaring(300, 200))).toEqual({ width: 200, height: 300 });
    expect(readJpegFrame(fixture('solid.jpg').subarray(0, 100))).toBeUndefined();
  });

  it('refuses a kilobyte JPEG declaring 8000×8000 pixels before jpeg-js allocates them', async () => {
    // jpeg-js allocates the coefficients of the whole frame when it reads the header: this file
    // took 700 MB before its own memory check failed.
    const decode = jest.spyOn(jpeg, 'decode');
    try {
      let error: unknown;
      const growth = await bufferGrowth(() =>
        decodeImage(declaring(8000, 8000), 'huge.jpg', 3, inflateNode).catch((e: unknown) => {
          error = e;
        }),
      );
      expect(isBnlabError(error, 'DATA_FORMAT')).toBe(true);
      expect((error as Error).message).toBe('huge.jpg: has 8000×8000 pixels, more than the 16777216 accepted (maxPixels)');
      expect(decode).not.toHaveBeenCalled();
      expect(growth).toBeLessThan(8 << 20);
    } finally {
      decode.mockRestore();
    }
  });

  it('refuses a declared size of zero, and honours a lower maxPixels', async () => {
    await expect(decodeImage(declaring(0, 8), 'zero.jpg', 3, inflateNode)).rejects.toThrow(
      'zero.jpg: is not a valid JPEG file (its frame header declares 8×0 pixels; both must be positive)',
    );
    await expect(decodeImage(fixture('solid.jpg'), 'solid.jpg', 3, inflateNode, { maxPixels: 63 })).rejects.toThrow(
      'solid.jpg: has 8×8 pixels, more than the 63 accepted (maxPixels)',
    );
    expect((await decodeImage(fixture('solid.jpg'), 'solid.jpg', 3, inflateNode, { maxPixels: 64 })).width).toBe(8);
  });
});
