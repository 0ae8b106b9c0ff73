import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { removeStaleTempFiles, STALE_TEMP_FILE_MS, tempFileFor } from '../../src/node/temp_files.js';
import { useTempDir } from '../support/temp_dir.js';

const tempDir = useTempDir();

describe('temporary files', () => {
  it('names a temporary file beside its target, hidden, with a random part', () => {
    const target = join(tempDir(), 'mnist', 'train-images-idx3-ubyte.gz');
    const a = tempFileFor(target);
    expect(dirname(a)).toBe(dirname(target));
    expect(basename(a)).toMatch(/^\.train-images-idx3-ubyte\.gz\.[0-9a-f]{12}\.part$/);
    expect(tempFileFor(target)).not.toBe(a);
  });

  it('removes the stale temporary files of its target only, and keeps fresh ones', async () => {
    const dir = join(tempDir(), 'cache');
    mkdirSync(dir);
    const target = join(dir, 'data.bin');
    const now = Date.now();
    const files: Record<string, number> = {
      '.data.bin.0123456789ab.part': STALE_TEMP_FILE_MS + 60_000, // stale: removed
      '.data.bin.ba9876543210.part': STALE_TEMP_FILE_MS - 60_000, // fresh: another process may be writing it
      '.other.bin.0123456789ab.part': STALE_TEMP_FILE_MS + 60_000, // another target's
      '.data.bin.part': STALE_TEMP_FILE_MS + 60_000, // not the pattern
      '.data.bin.0123456789AB.part': STALE_TEMP_FILE_MS + 60_000, // not the pattern (upper case)
      'data.bin': STALE_TEMP_FILE_MS + 60_000, // the target itself
    };
    for (const [name, age] of Object.entries(files)) {
      writeFileSync(join(dir, name), 'x');
      utimesSync(join(dir, name), (now - age) / 1000, (now - age) / 1000);
    }
    await removeStaleTempFiles(target, now);
    expect(readdirSync(dir).sort()).toEqual(
      Object.keys(files)
        .filter((f) => f !== '.data.bin.0123456789ab.part')
        .sort(),
    );
    await expect(removeStaleTempFiles(join(tempDir(), 'no-such-folder', 'x.bin'))).resolves.toBeUndefined();
  });
});
