import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { BnlabError } from '@bnlab/core';

/** Lower-case hex SHA-256 of a file, read as a stream (`IO_ERROR` when unreadable). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (e) {
    throw new BnlabError('IO_ERROR', `${path}: cannot be read (${(e as Error).message})`, { where: path, cause: e });
  }
  return hash.digest('hex');
}
