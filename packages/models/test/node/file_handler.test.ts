import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { BnlabError, initBackend } from '@bnlab/core';
import { kerasCnn, mlp } from '../../src/index.js';
import { loadModel, saveModel } from '../../src/node.js';
import { fileOps } from '../../src/node/file_ops.js';

// A crash mid-save must leave the previous save loadable, unchanged. The crashes are simulated
// by making one file operation fail part-way (a weights write that stops after half the bytes,
// a rename that fails), and a hard kill by also disabling the clean-up a failed save does.

let root: string;
beforeAll(async () => {
  await initBackend();
  root = mkdtempSync(join(tmpdir(), 'bnlab-atomic-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => jest.restoreAllMocks());

let n = 0;
const freshDir = () => join(root, `d${++n}`);
const x = () => tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 8);

function same(a: tf.Tensor, b: tf.Tensor): boolean {
  return Buffer.from(a.dataSync().buffer).equals(Buffer.from(b.dataSync().buffer));
}

async function expectPrevious(dir: string, previous: LayersModel): Promise<void> {
  const loaded = await loadModel(dir);
  expect(same(loaded.predict(x()) as tf.Tensor, previous.predict(x()) as tf.Tensor)).toBe(true);
}

const modelA = () => kerasCnn({ norm: { type: 'batch' }, options: { seed: 1 } });
const modelB = () => kerasCnn({ norm: { type: 'batch' }, options: { seed: 2 } });

describe('atomic saves', () => {
  test('a weights write that dies half-way leaves the previous save intact and no temp files', async () => {
    const dir = freshDir();
    const a = modelA();
    await saveModel(a, dir);
    const before = readdirSync(dir).sort();
    const realWrite = fileOps.writeFileDurable;
    jest.spyOn(fileOps, 'writeFileDurable').mockImplementation(async (path, data) => {
      if (path.includes('.bin.tmp-') && typeof data !== 'string') {
        await realWrite(path, data.subarray(0, data.length >> 1)); // half the bytes reach the disk
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return realWrite(path, data);
    });
    let caught: unknown;
    try {
      await saveModel(modelB(), dir);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BnlabError);
    expect((caught as BnlabError).code).toBe('IO_ERROR');
    expect((caught as BnlabError).message).toMatch(
      /^saveModel: could not write .*weights\.[0-9a-f]{16}\.bin\.tmp-[0-9a-f]+; the previous save in .* is unchanged: ENOSPC/,
    );
    expect(readdirSync(dir).sort()).toEqual(before);
    jest.restoreAllMocks();
    await expectPrevious(dir, a);
  });

  test('a failure to publish model.json leaves the previous save; the next save removes the orphaned weights', async () => {
    const dir = freshDir();
    const a = modelA();
    await saveModel(a, dir);
    const realRename = fileOps.rename;
    jest.spyOn(fileOps, 'rename').mockImplementation(async (from, to) => {
      if (to.endsWith('model.json')) throw new Error('EIO: i/o error, rename');
      return realRename(from, to);
    });
    await expect(saveModel(modelB(), dir)).rejects.toThrow(/could not rename .*model\.json; the previous save/);
    jest.restoreAllMocks();
    // B's weights were published under their own name, but model.json still points to A's.
    expect(readdirSync(dir).filter((f) => f.endsWith('.bin'))).toHaveLength(2);
    await expectPrevious(dir, a);
    const b = modelB();
    await saveModel(b, dir);
    expect(readdirSync(dir).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
    await expectPrevious(dir, b);
  });

  test('a hard kill (no clean-up) during the model.json write leaves the previous save; stale temps go later', async () => {
    const dir = freshDir();
    const a = modelA();
    await saveModel(a, dir);
    const realWrite = fileOps.writeFileDurable;
    jest.spyOn(fileOps, 'unlinkIfExists').mockResolvedValue(undefined); // a killed process cleans nothing
    jest.spyOn(fileOps, 'writeFileDurable').mockImplementation(async (path, data) => {
      if (path.includes('model.json.tmp-')) {
        await realWrite(path, String(data).slice(0, 100)); // a torn model.json
        throw new Error('killed');
      }
      return realWrite(path, data);
    });
    await expect(saveModel(modelB(), dir)).rejects.toThrow(BnlabError);
    jest.restoreAllMocks();
    const left = readdirSync(dir);
    expect(left.filter((f) => f.startsWith('model.json.tmp-'))).toHaveLength(1);
    await expectPrevious(dir, a);
    // The torn temp file is not model.json: the published one is still whole JSON.
    expect(() => JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'))).not.toThrow();
    await saveModel(a, dir);
    expect(readdirSync(dir).sort()).toEqual(['model.json', expect.stringMatching(/^weights\.[0-9a-f]{16}\.bin$/)]);
  });

  test('a folder that cannot be created is IO_ERROR naming it, and nothing is written', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a folder');
    const dir = join(file, 'model');
    await expect(saveModel(mlp(), dir)).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringContaining(`cannot create the folder ${dir}`),
    });
    expect(existsSync(dir)).toBe(false);
  });

  test('concurrent saves to one folder from one process run in turn and leave a consistent save', async () => {
    const dir = freshDir();
    const models = [modelA(), modelB(), modelA()];
    await Promise.all(models.map((m) => saveModel(m, dir)));
    expect(readdirSync(dir).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
    await expectPrevious(dir, models[2]!);
  });

  test('load retries once when a concurrent save deletes the weights it was about to read', async () => {
    const dir = freshDir();
    const a = modelA();
    const b = modelB();
    await saveModel(a, dir);
    const realRead = fileOps.readFile;
    let swapped = false;
    jest.spyOn(fileOps, 'readFile').mockImplementation(async (path) => {
      if (!swapped && path.endsWith('.bin')) {
        swapped = true;
        jest.restoreAllMocks();
        await saveModel(b, dir); // replaces model.json and deletes A's weights under our feet
      }
      return realRead(path);
    });
    await expectPrevious(dir, b);
    expect(swapped).toBe(true);
  });
});
