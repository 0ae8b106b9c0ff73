import { isBnlabError } from '@bnlab/core';
import { readCifarBinary, readCifarMeta } from '../../src/formats/cifar_binary.js';
import { cifarBatch, cifarRecord } from '../support/cifar_bytes.js';

describe('CIFAR-10 binary reader', () => {
  it('turns CHW records into HWC images with their labels', () => {
    // Record 0: R plane = x, G plane = y, B plane = 200; record 1: a single red pixel at (x 5, y 2).
    const a = cifarRecord(3, (x, y, c) => (c === 0 ? x : c === 1 ? y : 200));
    const b = cifarRecord(9, (x, y, c) => (x === 5 && y === 2 && c === 0 ? 255 : 0));
    const { count, images, labels } = readCifarBinary(cifarBatch([a, b]), 'data_batch_1.bin');
    expect(count).toBe(2);
    expect(Array.from(labels)).toEqual([3, 9]);
    const at = (i: number, x: number, y: number) =>
      Array.from(images.subarray(i * 3072 + (y * 32 + x) * 3, i * 3072 + (y * 32 + x) * 3 + 3));
    expect(at(0, 0, 0)).toEqual([0, 0, 200]);
    expect(at(0, 31, 0)).toEqual([31, 0, 200]);
    expect(at(0, 7, 19)).toEqual([7, 19, 200]);
    expect(at(1, 5, 2)).toEqual([255, 0, 0]);
    expect(at(1, 2, 5)).toEqual([0, 0, 0]); // transposed position stays black
    // the raw byte of record 1's red pixel sits at 3073 + 1 + 2*32 + 5 in the file
    expect(cifarBatch([a, b])[3073 + 1 + 2 * 32 + 5]).toBe(255);
  });

  it('rejects a size that is not a multiple of 3073, naming the file and the leftover', () => {
    const bytes = cifarBatch([cifarRecord(1, () => 0)]);
    for (const size of [0, 3072, 3074, 2 * 3073 - 1]) {
      const data = new Uint8Array(size);
      data.set(bytes.subarray(0, Math.min(size, bytes.length)));
      try {
        readCifarBinary(data, 'test_batch.bin');
        throw new Error('no error');
      } catch (e) {
        expect(isBnlabError(e, 'DATA_FORMAT')).toBe(true);
        expect((e as Error).message).toContain('test_batch.bin');
        expect((e as Error).message).toContain(`size ${size} bytes is not a positive multiple of 3073`);
      }
    }
  });

  it('rejects a label above 9, naming the record', () => {
    const bytes = cifarBatch([cifarRecord(1, () => 0), cifarRecord(10, () => 0)]);
    expect(() => readCifarBinary(bytes, 'data_batch_2.bin')).toThrow(
      'data_batch_2.bin: label 10 of record 1 (byte 3073) is out of range: labels must be in [0, 10)',
    );
  });

  it('reads batches.meta.txt in order, ignoring blank lines, and checks the count', () => {
    const text = 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n';
    expect(readCifarMeta(new TextEncoder().encode(text), 'meta', 10)).toEqual([
      'airplane',
      'automobile',
      'bird',
      'cat',
      'deer',
      'dog',
      'frog',
      'horse',
      'ship',
      'truck',
    ]);
    expect(readCifarMeta(new TextEncoder().encode('b\r\na\r\n'), 'meta')).toEqual(['b', 'a']);
    expect(() => readCifarMeta(new TextEncoder().encode('a\nb\n'), 'batches.meta.txt', 10)).toThrow(
      'batches.meta.txt: lists 2 class names; it must list exactly 10, one per line',
    );
  });
});
