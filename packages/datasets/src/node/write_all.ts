import type { FileHandle } from 'node:fs/promises';

/** Writes all of `bytes` at the handle's position (one `write` may write less than asked). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}
