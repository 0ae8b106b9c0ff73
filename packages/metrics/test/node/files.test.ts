import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainingRecord } from '@bnlab/core';
import { writeEpochsCsv } from '../../src/node/csv_file';
import { writeFileAtomic } from '../../src/node/atomic_write';
import { syntheticRecord } from '../helpers/records';

const runs: TrainingRecord[] = [syntheticRecord({ runId: 'a', seed: 0 })];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bnlab-metrics-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('atomic writes', () => {
  test('a failed write leaves the old file and no temporary file', async () => {
    const sub = join(dir, 'atomic');
    await mkdir(sub);
    const path = join(sub, 'epochs.csv');
    await writeFile(path, 'old content');
    const broken = { ...runs[0]!, epochs: [{ epoch: -1 }] } as unknown as TrainingRecord;
    await expect(writeEpochsCsv(path, broken)).rejects.toThrow('records[0].epochs[0].epoch must be an integer ≥ 0, got -1');
    expect(await readFile(path, 'utf8')).toBe('old content');
    // The rename itself fails: the target is a folder.
    await mkdir(join(sub, 'taken'));
    await expect(writeFileAtomic(join(sub, 'taken'), 'x')).rejects.toMatchObject({ code: 'IO_ERROR', where: join(sub, 'taken') });
    expect((await readdir(sub)).sort()).toEqual(['epochs.csv', 'taken']);
  });

  test('creates missing folders', async () => {
    const path = join(dir, 'a', 'b', 'c.txt');
    await writeFileAtomic(path, 'hello');
    expect(await readFile(path, 'utf8')).toBe('hello');
  });
});
