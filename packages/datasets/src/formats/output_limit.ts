import { BnlabError } from '@bnlab/core';

/**
 * The most bytes a decompressed file may have, given its first bytes (`head`): a number, or
 * `undefined` while `head` is too short to tell (an IDX file's size is known once its header is).
 */
export type SizeLimit = (head: Uint8Array) => number | undefined;

/** Bytes the head may grow to while a {@link SizeLimit} still cannot tell (an IDX header is at most 1024). */
const MAX_HEAD_BYTES = 1 << 16;

/** Bytes the output array starts with once a limit is known; it doubles from there. */
const FIRST_ALLOCATION = 1 << 20;

/**
 * `buffer` with room for at least `needed` bytes, its first `used` bytes kept: itself when it
 * is large enough, else a copy at twice its size (or `needed`, if more), never beyond `cap`.
 * Growing by doubling, a size a header declares costs memory only for the bytes that come.
 */
export function grownTo(buffer: Uint8Array, used: number, needed: number, cap: number): Uint8Array {
  if (needed <= buffer.length) return buffer;
  const grown = new Uint8Array(Math.min(cap, Math.max(2 * buffer.length, needed)));
  grown.set(buffer.subarray(0, used));
  return grown;
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Gathers the chunks of a decompression into one array, and stops reading (which cancels the
 * decompression) as soon as they pass `limit`: a decompression bomb costs at most the limit and
 * one chunk, never what it would inflate to. Once a finite limit is known, the output goes into
 * one array that doubles as data arrives, up to the limit: a header declaring far more than
 * the data holds costs memory only for the bytes that come.
 *
 * Throws a `DATA_FORMAT` {@link BnlabError} naming `source` and the limit when the output passes
 * it. Errors of `chunks` (corrupt data) pass through unchanged.
 *
 * @param limit a number of bytes, or a {@link SizeLimit} asked with the first bytes
 * @param what what the limit is, for the message (e.g. `'the size its IDX header declares'`)
 */
export async function collectWithin(
  chunks: AsyncIterable<Uint8Array>,
  source: string,
  limit: number | SizeLimit,
  what?: string,
): Promise<Uint8Array> {
  const over = (max: number): BnlabError =>
    new BnlabError('DATA_FORMAT', `${source}: decompresses to more than ${max} bytes${what ? `, ${what}` : ''}`, {
      where: source,
    });
  let max = typeof limit === 'number' ? limit : undefined;
  const parts: Uint8Array[] = [];
  let out: Uint8Array | undefined;
  let length = 0;
  for await (const chunk of chunks) {
    if (out !== undefined) {
      if (length + chunk.length > (max as number)) throw over(max as number);
      out = grownTo(out, length, length + chunk.length, max as number);
      out.set(chunk, length);
      length += chunk.length;
      continue;
    }
    parts.push(chunk);
    length += chunk.length;
    if (max === undefined) {
      max = (limit as SizeLimit)(concat(parts, length));
      if (max === undefined) {
        if (length > MAX_HEAD_BYTES) throw over(MAX_HEAD_BYTES);
        continue;
      }
    }
    if (length > max) throw over(max);
    if (Number.isFinite(max)) {
      out = new Uint8Array(Math.min(max, Math.max(FIRST_ALLOCATION, length)));
      out.set(concat(parts, length));
      parts.length = 0;
    }
  }
  return out === undefined ? concat(parts, length) : out.subarray(0, length);
}
