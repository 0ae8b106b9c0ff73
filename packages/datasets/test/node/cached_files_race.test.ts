// Two workers filling the same cache: while this process hashes a corrupt cached file, another
// one replaces it with a verified download. The good file must survive.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const good = Buffer.from('the verified contents of the file');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// sha256File, but the first hash is taken while "another process" renames a good copy into place.
let raceOnce: (() => void) | null = null;
jest.mock('../../src/node/sha256_file.js', () => {
  const actual = jest.requireActual('../../src/node/sha256_file.js');
  return {
    sha256File: async (path: string) => {
      const hash = await actual.sha256File(path);
      const race = raceOnce;
      raceOnce = null;
      race?.();
      return hash;
    },
  };
});

import { cachedFiles } from '../../src/node/cached_files.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bnlab-cache-race-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const help = { dataset: 'test', lookedAt: [], remedies: [] };

it('keeps a verified file another process put in place of the corrupt one it was checking', async () => {
  const path = join(dir, 'sub', 'data.bin');
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  writeFileSync(path, 'corrupt bytes');
  raceOnce = () => {
    writeFileSync(join(sub, '.data.bin.0123456789ab.part'), good);
    renameSync(join(sub, '.data.bin.0123456789ab.part'), path);
  };
  const paths = await cachedFiles(
    [{ name: 'data.bin', sha256: sha(good) }] as never,
    'sub',
    'http://127.0.0.1:9/',
    { cacheDir: dir, offline: true },
    help,
  );
  expect(paths).toEqual([path]);
  expect(readFileSync(path).equals(good)).toBe(true);
});

it('still removes a corrupt file that nobody replaced (offline: says so)', async () => {
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  const path = join(sub, 'data.bin');
  writeFileSync(path, 'corrupt bytes');
  await expect(
    cachedFiles([{ name: 'data.bin', sha256: sha(good) }] as never, 'sub', 'http://127.0.0.1:9/', { cacheDir: dir, offline: true }, help),
  ).rejects.toThrow(/corrupt and was removed/);
  expect(() => readFileSync(path)).toThrow();
});
