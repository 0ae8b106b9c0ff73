import { BnlabError } from '@bnlab/core';
import { withDefaults } from '../with_defaults.js';
import { grownTo } from './output_limit.js';

/** One member of a tar archive. */
export interface TarEntry {
  /** Path inside the archive, `/`-separated, as stored (pax and GNU long names applied). */
  readonly path: string;
  readonly type: 'file' | 'directory' | 'other';
  /** Size in bytes of the member's data. */
  readonly size: number;
  /** The data of a `file` member; empty for other types. */
  readonly data: Uint8Array;
}

/** Options of {@link readTar}. */
export interface ReadTarOptions {
  /**
   * Members larger than this are refused (a corrupt size field must not allocate gigabytes).
   * @default 1073741824 (1 GiB)
   */
  maxEntryBytes?: number;
}

const BLOCK = 512;
/** Bytes of a member allocated before any of them arrive; the array doubles from there. */
const FIRST_ALLOCATION = 1 << 20;
const DEFAULTS: Required<ReadTarOptions> = { maxEntryBytes: 1 << 30 };

/** Hands out exactly the bytes asked for from a stream of chunks of any size. */
class ChunkReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private current: Uint8Array = new Uint8Array(0);
  private offset = 0;
  /** Bytes consumed so far (for error messages). */
  position = 0;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.iterator = chunks[Symbol.asyncIterator]();
  }

  /** Fills `target` completely; returns the number of bytes filled (less only at end of stream). */
  async fill(target: Uint8Array): Promise<number> {
    let filled = 0;
    while (filled < target.length) {
      if (this.offset >= this.current.length) {
        const next = await this.iterator.next();
        if (next.done) break;
        this.current = next.value;
        this.offset = 0;
        continue;
      }
      const n = Math.min(target.length - filled, this.current.length - this.offset);
      target.set(this.current.subarray(this.offset, this.offset + n), filled);
      this.offset += n;
      filled += n;
    }
    this.position += filled;
    return filled;
  }

  /**
   * The next `n` bytes (fewer only at end of stream), in an array that grows as they arrive: a
   * header declaring a member of a gigabyte costs memory only for the bytes that come.
   */
  async take(n: number): Promise<Uint8Array> {
    let out: Uint8Array = new Uint8Array(Math.min(n, FIRST_ALLOCATION));
    let filled = 0;
    for (;;) {
      filled += await this.fill(out.subarray(filled));
      if (filled < out.length || out.length === n) return out.subarray(0, filled);
      out = grownTo(out, filled, filled + 1, n);
    }
  }

  /** Skips `n` bytes; returns the number skipped. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n) {
      if (this.offset >= this.current.length) {
        const next = await this.iterator.next();
        if (next.done) break;
        this.current = next.value;
        this.offset = 0;
        continue;
      }
      const k = Math.min(n - skipped, this.current.length - this.offset);
      this.offset += k;
      skipped += k;
    }
    this.position += skipped;
    return skipped;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function cString(bytes: Uint8Array, start: number, length: number, decoder = utf8): string {
  let end = start;
  while (end < start + length && bytes[end] !== 0) end++;
  return decoder.decode(bytes.subarray(start, end));
}

/** Octal (space/NUL terminated) or GNU base-256 number field; NaN when malformed. */
function numberField(block: Uint8Array, start: number, length: number): number {
  const first = block[start] as number;
  if (first & 0x80) {
    // GNU base-256: the remaining bits are a big-endian two's-complement number; sizes are positive.
    if (first & 0x40) return Number.NaN;
    let value = first & 0x3f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + (block[i] as number);
    return value;
  }
  const text = latin1
    .decode(block.subarray(start, start + length))
    .replace(/[\0 ]+$/, '')
    .trim();
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : Number.NaN;
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** Header checksum: the sum of the header bytes with the checksum field read as eight spaces. */
function checksumMatches(block: Uint8Array): boolean {
  const stored = numberField(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** `"<length> <key>=<value>\n"` records of a pax extended header. */
function parsePax(data: Uint8Array, source: string, at: number): Map<string, string> {
  const records = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    let space = i;
    while (space < data.length && data[space] !== 0x20) space++;
    const length = Number(latin1.decode(data.subarray(i, space)));
    if (!Number.isInteger(length) || length <= space - i + 1 || i + length > data.length) {
      if (data.subarray(i).every((b) => b === 0)) break; // padding
      throw new BnlabError('DATA_FORMAT', `${source}: malformed pax extended header at byte ${at}`, { where: source });
    }
    const record = utf8.decode(data.subarray(space + 1, i + length - 1));
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    i += length;
  }
  return records;
}

/**
 * Reads a tar archive (ustar, pax and GNU long names; POSIX and GNU tar, git archive) from a
 * stream of byte chunks, yielding its members one by one with their data in memory, so an
 * archive of any size is read with the memory of its largest member. Decompress `.tar.gz`
 * before (zlib in Node, `DecompressionStream('gzip')` in browsers).
 *
 * The stream is read to its end, past the end-of-archive block, so that errors of its source
 * (a `.tar.gz` whose gzip trailer is missing) surface. Throws a `DATA_FORMAT` {@link BnlabError}
 * naming `source` and the byte offset on a bad header checksum or size, a truncated member, or a
 * missing end-of-archive block.
 *
 * @param chunks the archive's bytes, in chunks of any size
 * @param source the file name or URL, for error messages
 */
export async function* readTar(
  chunks: AsyncIterable<Uint8Array>,
  source: string,
  options: ReadTarOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const { maxEntryBytes } = withDefaults(options, DEFAULTS);
  const reader = new ChunkReader(chunks);
  const fail = (message: string, at: number): BnlabError =>
    new BnlabError('DATA_FORMAT', `${source}: ${message} (at byte ${at} of the tar stream)`, { where: source });
  const header = new Uint8Array(BLOCK);
  let longName: string | undefined;
  let pax = new Map<string, string>();
  try {
    for (;;) {
      const at = reader.position;
      const got = await reader.fill(header);
      if (got === 0) throw fail('ends without the end-of-archive block: the archive is truncated', at);
      if (got < BLOCK) throw fail(`is truncated inside a ${BLOCK}-byte header block (${got} bytes)`, at);
      if (isZeroBlock(header)) {
        // Read what follows (the second zero block, the record padding) to the end, so that a
        // decompressor feeding `chunks` reaches its end and checks it: a .tar.gz cut short
        // after the archive's last block (its gzip trailer missing) must not pass as complete.
        await reader.skip(Number.POSITIVE_INFINITY);
        return;
      }
      if (!checksumMatches(header)) throw fail('has a tar header whose checksum does not match: not a tar archive, or corrupt', at);
      const size = numberField(header, 124, 12);
      if (!Number.isFinite(size)) throw fail('has a tar header with a malformed size field', at);
      if (size > maxEntryBytes) throw fail(`has a member of ${size} bytes, more than the limit of ${maxEntryBytes}`, at);
      const flag = String.fromCharCode(header[156] as number);
      const data = await reader.take(size);
      if (data.length < size) throw fail(`is truncated: a member of ${size} bytes ends after ${data.length}`, at);
      const padding = (BLOCK - (size % BLOCK)) % BLOCK;
      if ((await reader.skip(padding)) < padding) throw fail('is truncated in the padding after a member', at);

      if (flag === 'x') {
        pax = parsePax(data, source, at);
        continue;
      }
      if (flag === 'g') continue; // global pax header (git archive's commit id): no per-file meaning here
      if (flag === 'L') {
        longName = cString(data, 0, data.length);
        continue;
      }
      if (flag === 'K') continue; // GNU long link name
      let path = cString(header, 0, 100);
      const magic = latin1.decode(header.subarray(257, 263));
      if (magic === 'ustar\0') {
        const prefix = cString(header, 345, 155);
        if (prefix !== '') path = `${prefix}/${path}`;
      }
      if (longName !== undefined) path = longName;
      const paxPath = pax.get('path');
      if (paxPath !== undefined) path = paxPath;
      longName = undefined;
      pax = new Map();
      let type: TarEntry['type'] = flag === '0' || flag === '\0' || flag === '7' ? 'file' : flag === '5' ? 'directory' : 'other';
      // Pre-POSIX archives mark directories only by a trailing slash.
      if (type === 'file' && size === 0 && path.endsWith('/')) type = 'directory';
      yield { path, type, size, data: type === 'file' ? data : new Uint8Array(0) };
    }
  } finally {
    await reader.close();
  }
}
