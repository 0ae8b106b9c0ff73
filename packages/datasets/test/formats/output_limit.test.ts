import { isBnlabError } from '@bnlab/core';
import { collectWithin, grownTo } from '../../src/formats/output_limit.js';

async function* chunksOf(...parts: number[][]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Uint8Array.from(p);
}

test('a limit far above the data costs only the data: 5 GB declared, 6 bytes come', async () => {
  // Allocating the declared size up front would throw a RangeError (or take gigabytes).
  const out = await collectWithin(chunksOf([1, 2, 3], [4, 5, 6]), 'f.gz', 5e9);
  expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6]);
});

test('output past the limit is a DATA_FORMAT error naming the file, also after the array grew', async () => {
  const big = Array.from({ length: 3 << 20 }, (_, i) => i & 255);
  const out = await collectWithin(chunksOf(big.slice(0, 1 << 20), big.slice(1 << 20)), 'f.gz', 3 << 20);
  expect(out.length).toBe(3 << 20);
  expect(out[(3 << 20) - 1]).toBe(big[(3 << 20) - 1]);
  let error: unknown;
  try {
    await collectWithin(chunksOf(big.slice(0, 1 << 20), big.slice(1 << 20), [0]), 'f.gz', 3 << 20);
  } catch (e) {
    error = e;
  }
  expect(isBnlabError(error, 'DATA_FORMAT')).toBe(true);
  expect((error as Error).message).toContain(`f.gz: decompresses to more than ${3 << 20} bytes`);
});

test('grownTo doubles, keeps the used bytes, and stops at the cap', () => {
  const b = Uint8Array.from([7, 8, 9, 0]);
  expect(grownTo(b, 3, 4, 100)).toBe(b);
  const g = grownTo(b, 3, 5, 100);
  expect([g.length, ...g.subarray(0, 3)]).toEqual([8, 7, 8, 9]);
  expect(grownTo(b, 4, 5, 6).length).toBe(6);
  expect(grownTo(b, 4, 20, 100).length).toBe(20);
});
