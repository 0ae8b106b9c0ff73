import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBnlabError } from '@bnlab/core';
import { parseExperiment } from '../../src/experiment/load.js';
import { expandTrials } from '../../src/experiment/trials.js';
import { ResultsStore } from '../../src/results/store.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnlab-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const experiment = parseExperiment({
  name: 'store',
  dataset: { name: 'mnist', trainLimit: 64 },
  model: { architecture: 'mlp' },
  training: { epochs: 1, batchSize: 64 },
});
const [trial] = expandTrials(experiment);
const id = trial!.id;

async function errorOf(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

async function freshStore(name: string): Promise<ResultsStore> {
  const store = new ResultsStore(join(tmp, name));
  await store.init(experiment);
  return store;
}

describe('a results folder in the wrong shape is one error naming the path (exit 3), not EISDIR or ENOTDIR', () => {
  it('a folder where a trial file belongs', async () => {
    const store = await freshStore('trial-is-folder');
    mkdirSync(store.path(id));
    for (const read of [() => store.read(id), () => store.isFinished(id), () => store.all()]) {
      const err = await errorOf(read);
      expect(isBnlabError(err, 'DATA_FORMAT')).toBe(true);
      expect(err.message).toBe(`${store.path(id)} is a folder, not a trial file; remove it to run the trial again`);
    }
  });

  it('a file where the folder of trial files belongs', async () => {
    const store = await freshStore('trials-is-file');
    rmSync(store.trialsDir, { recursive: true });
    writeFileSync(store.trialsDir, 'x');
    const message = `${store.trialsDir} is a file, not the folder of trial files of a results folder; move it away, or use another results folder`;
    for (const call of [() => store.read(id), () => store.all(), () => store.init(experiment)]) {
      const err = await errorOf(call);
      expect(isBnlabError(err, 'DATA_FORMAT')).toBe(true);
      expect(err.message).toBe(message);
    }
  });

  it('a folder where experiment.json belongs, and a file where the results folder belongs', async () => {
    const dir = join(tmp, 'experiment-is-folder');
    mkdirSync(join(dir, 'experiment.json'), { recursive: true });
    const err = await errorOf(() => new ResultsStore(dir).experiment());
    expect([isBnlabError(err, 'DATA_FORMAT'), err.message]).toEqual([
      true,
      `${join(dir, 'experiment.json')} is a folder, not the experiment file; remove it`,
    ]);
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    for (const call of [
      () => new ResultsStore(file).experiment(),
      () => new ResultsStore(file).all(),
      () => new ResultsStore(file).read(id),
    ]) {
      const e = await errorOf(call);
      expect([isBnlabError(e, 'DATA_FORMAT'), e.message]).toEqual([
        true,
        `${file} is not a bnlab results folder (it, or a folder it is in, is a file)`,
      ]);
    }
  });
});

describe('writes', () => {
  it('never replace a finished result with an unfinished one', async () => {
    const { failedRecord } = await import('../../src/run/failed_record.js');
    const store = await freshStore('keeps-finished');
    const completed = failedRecord(trial!, 'x');
    completed.status = 'completed';
    delete completed.error;
    expect(await store.write({ trial: trial!, record: completed })).toBe(true);
    for (const status of ['failed', 'interrupted'] as const) {
      const record = failedRecord(trial!, 'worker process exited (SIGKILL) during the trial');
      record.status = status;
      expect(await store.write({ trial: trial!, record })).toBe(false);
      expect((await store.read(id))?.record.status).toBe('completed');
    }
    // a finished result does replace another, and an unfinished one an unfinished one
    const diverged = { ...completed, status: 'diverged' as const };
    expect(await store.write({ trial: trial!, record: diverged })).toBe(true);
    const other = (await freshStore('unfinished')).write({ trial: trial!, record: failedRecord(trial!, 'a') });
    expect(await other).toBe(true);
  });
});
