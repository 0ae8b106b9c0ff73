// Builds tar archives with tar-stream's packer: an implementation independent of bnlab's reader.
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

export interface TarFile {
  name: string;
  data?: Uint8Array;
  type?: 'file' | 'directory' | 'pax-global-header';
  pax?: Record<string, string>;
}

export async function tarBytes(files: TarFile[]): Promise<Uint8Array> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c: unknown) => chunks.push(c as Buffer));
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const f of files) {
    await new Promise<void>((resolve, reject) => {
      const header = { name: f.name, type: f.type ?? 'file', ...(f.pax ? { pax: f.pax } : {}) };
      p.entry(header as Parameters<typeof p.entry>[0], Buffer.from(f.data ?? new Uint8Array(0)), (e?: Error | null) =>
        e ? reject(e) : resolve(),
      );
    });
  }
  p.finalize();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

export async function tarGzBytes(files: TarFile[]): Promise<Uint8Array> {
  return new Uint8Array(gzipSync(await tarBytes(files)));
}

/** A stream of `bytes` cut into chunks of `size` bytes (the reader must not depend on chunking). */
export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, Math.min(bytes.length, i + size));
}

/**
 * A pax global header member (typeflag 'g', as `git archive` writes first), built by hand from
 * the POSIX ustar layout: tar-stream cannot write one.
 */
export function paxGlobalHeader(records: Record<string, string>): Uint8Array {
  const body = new TextEncoder().encode(
    Object.entries(records)
      .map(([k, v]) => {
        const rest = ` ${k}=${v}\n`;
        let n = rest.length + 1;
        while (`${n}${rest}`.length !== n) n = `${n}${rest}`.length;
        return `${n}${rest}`;
      })
      .join(''),
  );
  const header = new Uint8Array(512);
  const put = (offset: number, text: string) => header.set(new TextEncoder().encode(text), offset);
  put(0, 'pax_global_header');
  put(100, '0000666\0');
  put(108, '0000000\0');
  put(116, '0000000\0');
  put(124, `${body.length.toString(8).padStart(11, '0')}\0`);
  put(136, '00000000000\0');
  put(156, 'g');
  put(257, 'ustar\0');
  put(263, '00');
  put(148, '        ');
  const sum = header.reduce((s, b) => s + b, 0);
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padded = new Uint8Array(512 + Math.ceil(body.length / 512) * 512);
  padded.set(header);
  padded.set(body, 512);
  return padded;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
