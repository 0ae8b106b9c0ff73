/**
 * A trial stopped part way goes on from its last epoch end when the experiment runs again,
 * and ends with the record it would have had run straight through (SGD with momentum on the
 * cpu backend: the same batches, weights and optimizer slots, bit for bit).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainingRecord } from '@bnlab/core';
import { runExperiment } from '../../src/run/experiment_runner.js';
import type { RunEvent } from '../../src/run/events.js';
import { checkpointPath } from '../../src/run/checkpoint.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnlab-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const file = join(tmp, 'resume.json');
writeFileSync(
  file,
  JSON.stringify({
    name: 'resume',
    dataset: { name: 'mnist', trainLimit: 192, testLimit: 100 },
    model: { architecture: 'mlp', norm: { type: 'batch' }, options: { hiddenUnits: [16] } },
    training: {
      epochs: 4,
      batchSize: 32,
      optimizer: { name: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true },
      schedule: { type: 'cosine' },
    },
    seeds: [3],
  }),
);

async function run(outDir: string, onEvent: (e: RunEvent, stop: { requested: boolean }) => void = () => {}) {
  const events: RunEvent[] = [];
  const stop = { requested: false };
  const summary = await runExperiment({
    file,
    outDir,
    backend: 'cpu',
    listener: (e) => {
      events.push(e);
      onEvent(e, stop);
    },
    stop,
  });
  return { summary, events };
}

const recordOf = (dir: string): TrainingRecord => {
  const [f] = readdirSync(join(dir, 'trials')).filter((n) => n.endsWith('.json'));
  return (JSON.parse(readFileSync(join(dir, 'trials', f as string), 'utf8')) as { record: TrainingRecord }).record;
};

it('resumes an interrupted trial at the epoch after its checkpoint and matches a straight run', async () => {
  const straightDir = join(tmp, 'straight');
  await run(straightDir);
  const straight = recordOf(straightDir);
  expect(straight.status).toBe('completed');

  const dir = join(tmp, 'stopped');
  // Stop during epoch 3 (0-based 2): the checkpoint of epoch 2's end is the one to go on from.
  const first = await run(dir, (e, stop) => {
    if (e.type === 'epoch' && e.record.epoch === 1) stop.requested = true;
  });
  expect(first.summary.interrupted).toBe(1);
  const id = (first.events.find((e) => e.type === 'trial-start') as { id: string }).id;
  expect(existsSync(checkpointPath(dir, id))).toBe(true);
  expect(recordOf(dir).status).toBe('interrupted');

  const second = await run(dir);
  expect(second.summary.completed).toBe(1);
  expect(second.events.find((e) => e.type === 'trial-resume')).toEqual({ type: 'trial-resume', id, epoch: 2, step: 12 });
  const resumed = recordOf(dir);
  expect(resumed.status).toBe('completed');
  // The same batches in the same order, with the same losses and learning rates.
  expect(resumed.batches).toEqual(straight.batches);
  expect(resumed.epochs.map((e) => [e.epoch, e.trainLoss, e.testAccuracy, e.testLoss])).toEqual(
    straight.epochs.map((e) => [e.epoch, e.trainLoss, e.testAccuracy, e.testLoss]),
  );
  expect(resumed.environment?.['resumes']).toEqual([{ epoch: 2, at: expect.any(String) }]);
  // A finished trial keeps no checkpoint.
  expect(existsSync(checkpointPath(dir, id))).toBe(false);
}, 120_000);

it('starts over, saying why, when the checkpoint is damaged', async () => {
  const dir = join(tmp, 'damaged');
  const first = await run(dir, (e, stop) => {
    if (e.type === 'epoch' && e.record.epoch === 0) stop.requested = true;
  });
  const id = (first.events.find((e) => e.type === 'trial-start') as { id: string }).id;
  const path = checkpointPath(dir, id);
  const bytes = readFileSync(path);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(path, bytes);
  const second = await run(dir);
  expect(second.events.find((e) => e.type === 'trial-resume')).toBeUndefined();
  const problem = second.events.find((e) => e.type === 'checkpoint-problem') as { message: string } | undefined;
  expect(problem?.message).toMatch(/is not a usable checkpoint: its weights do not match their SHA-256.*starts over/);
  expect(recordOf(dir).status).toBe('completed');
  expect(recordOf(dir).epochs).toHaveLength(4);
}, 120_000);
