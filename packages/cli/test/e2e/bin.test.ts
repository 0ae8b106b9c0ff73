/**
 * The built `bnlab` command as a user runs it: worker processes, Ctrl-C and resume. Runs
 * against dist/ (`npm test` builds first).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(__dirname, '../../dist/cjs/bin.js');
const tmp = mkdtempSync(join(tmpdir(), 'bnlab-bin-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function experiment(name: string, trainLimit: number, epochs: number): string {
  const file = join(tmp, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      dataset: { name: 'mnist', trainLimit, testLimit: 200 },
      model: { architecture: 'mlp', options: { hiddenUnits: [32] } },
      training: { epochs, batchSize: 32, optimizer: { name: 'adam', learningRate: 0.003 } },
      seeds: [1, 2],
      grid: { 'model.norm': [{ type: 'none' }, { type: 'batch' }] },
    }),
  );
  return file;
}

const records = (dir: string): Array<{ file: string; status: string }> =>
  readdirSync(join(dir, 'trials'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({
      file: f,
      status: (JSON.parse(readFileSync(join(dir, 'trials', f), 'utf8')) as { record: { status: string } }).record.status,
    }));

type Environment = { simdKernels?: string; winograd?: boolean; kernelThreads?: number };
const environments = (dir: string): Environment[] =>
  readdirSync(join(dir, 'trials'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => (JSON.parse(readFileSync(join(dir, 'trials', f), 'utf8')) as { record: { environment: Environment } }).record.environment);

it('is built', () => {
  expect(existsSync(BIN)).toBe(true);
});

it('--help lists the commands and the exit codes', () => {
  const r = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  for (const cmd of ['run', 'train', 'report', 'merge', 'datasets', 'schema', 'wasm-files']) expect(r.stdout).toContain(cmd);
  expect(r.stdout).toMatch(/130 interrupted/);
});

it('--threads sets the kernel threads of each trial (recorded in its environment), and rejects bad counts', () => {
  const out = join(tmp, 'threads');
  const r = spawnSync(process.execPath, [BIN, 'run', experiment('threads', 256, 1), '--out', out, '--threads', '2', '--json'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status).toBe(0);
  const start = JSON.parse(r.stdout.split('\n').find((l) => l.includes('"experiment-start"')) as string) as {
    threads: number;
    workers: number;
  };
  expect(start).toMatchObject({ workers: 1, threads: 2 });
  expect(environments(out).map((e) => e.kernelThreads)).toEqual([2, 2, 2, 2]);
  // Worker processes get the count too.
  const out2 = join(tmp, 'threads-workers');
  const w = spawnSync(
    process.execPath,
    [BIN, 'run', experiment('threads-workers', 256, 1), '--out', out2, '--workers', '2', '--threads', '2', '--quiet'],
    { encoding: 'utf8', timeout: 120_000 },
  );
  expect(w.status).toBe(0);
  expect(environments(out2).map((e) => e.kernelThreads)).toEqual([2, 2, 2, 2]);
  for (const bad of ['0', 'many', '1.5', '300']) {
    const b = spawnSync(
      process.execPath,
      [BIN, 'run', experiment('threads-bad', 256, 1), '--out', join(tmp, 'threads-bad'), '--threads', bad],
      { encoding: 'utf8' },
    );
    expect(b.status).toBe(2);
    expect(b.stderr).toContain(`--threads must be auto or a whole number from 1 to 256, got "${bad}"`);
    expect(existsSync(join(tmp, 'threads-bad'))).toBe(false);
  }
});

it('runs trials in two worker processes', () => {
  const out = join(tmp, 'workers');
  const r = spawnSync(process.execPath, [BIN, 'run', experiment('workers', 256, 1), '--out', out, '--workers', '2', '--quiet'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.stderr).toMatch(/4 completed, 0 diverged, 0 failed/);
  expect(r.status).toBe(0);
  expect(records(out).map((x) => x.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
  expect(existsSync(join(out, 'report.html'))).toBe(true);
  // The command turns on relaxed SIMD (Node 20 has it behind a V8 flag) in its workers.
  expect(new Set(environments(out).map((e) => e.simdKernels))).toEqual(new Set(['relaxed']));
  // and computes 3×3 convolutions as Winograd F(4×4, 3×3) by default.
  expect(new Set(environments(out).map((e) => e.winograd))).toEqual(new Set([true]));
});

it('records the trial of a worker process that dies as failed, before the summary, and runs the rest', async () => {
  const out = join(tmp, 'worker-dies');
  const child = spawn(process.execPath, [BIN, 'run', experiment('worker-dies', 2048, 2), '--out', out, '--workers', '2', '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let killed = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    // Both workers are in their first trial (two trials started, one already reporting steps).
    const started = new Set([...stdout.matchAll(/"type":"trial-start","id":"([^"]+)"/g)].map((m) => m[1]));
    if (!killed && started.size >= 2 && stdout.includes('"type":"trial-progress"')) {
      killed = true;
      // One of bnlab's worker processes (children of the command) dies mid-trial.
      const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' });
      const worker = Number(ps.stdout.trim().split(/\s+/)[0]);
      process.kill(worker, 'SIGKILL');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  expect(killed).toBe(true);
  const end = stdout.split('\n').find((l) => l.includes('"type":"experiment-end"'));
  expect(stderr).not.toMatch(/internal error| {4}at /);
  expect(JSON.parse(end as string)).toMatchObject({ completed: 3, failed: 1, interrupted: 0 });
  expect(code).toBe(1);
  const statuses = records(out)
    .map((x) => x.status)
    .sort();
  expect(statuses).toEqual(['completed', 'completed', 'completed', 'failed']);
  const failed = readdirSync(join(out, 'trials'))
    .map(
      (f) =>
        JSON.parse(readFileSync(join(out, 'trials', f), 'utf8')) as {
          record: { status: string; error?: string; config: { variant?: string } };
        },
    )
    .find((t) => t.record.status === 'failed');
  expect(failed?.record.error).toMatch(/worker process exited \(SIGKILL\)/);
  expect(failed?.record.config.variant).toMatch(/^norm=/);
}, 120_000);

it('a full disk with workers: the run stops with exit 4 naming the file, and no finished trial is replaced by a failed one', () => {
  const out = join(tmp, 'full-disk');
  // The test-only hook: once trials/ holds one trial file, writing another fails with ENOSPC.
  const r = spawnSync(process.execPath, [BIN, 'run', experiment('full-disk', 64, 1), '--out', out, '--workers', '2', '--quiet'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, BNLAB_TEST_FULL_DISK_AFTER: '1' },
  });
  expect(r.stderr).not.toMatch(/internal error|Unhandled| {4}at /);
  expect(r.stderr).toMatch(new RegExp(`^bnlab: could not write ${join(out, 'trials')}/[^ ]+\\.json: ENOSPC: no space left on device`, 'm'));
  expect(r.status).toBe(4);
  const statuses = records(out).map((x) => x.status);
  expect(statuses.length).toBeGreaterThanOrEqual(1); // both workers may have written their first at once
  expect(new Set(statuses)).toEqual(new Set(['completed']));
}, 120_000);

it('workers whose command dies exit quietly, without ERR_IPC_CHANNEL_CLOSED or EPIPE traces', async () => {
  const out = join(tmp, 'parent-dies');
  const child = spawn(process.execPath, [BIN, 'run', experiment('parent-dies', 2048, 3), '--out', out, '--workers', '2', '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let workers: number[] = [];
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (workers.length === 0 && stdout.includes('"type":"trial-progress"')) {
      const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' });
      workers = ps.stdout.trim().split(/\s+/).map(Number);
      child.kill('SIGKILL');
    }
  });
  // The workers share the command's standard error: it closes when the last of them has exited.
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 30_000);
    child.stderr.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  expect(workers).toHaveLength(2);
  expect(stderr).not.toMatch(/ERR_IPC_CHANNEL_CLOSED|EPIPE| {4}at /);
  expect(closed).toBe(true);
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const pid of workers.filter(alive)) process.kill(pid, 'SIGKILL'); // should there be any left
  expect(readdirSync(join(out, 'trials')).some((f) => f.includes('.tmp'))).toBe(false);
  // They stopped as on Ctrl-C: the trials they were in are kept as interrupted, for a rerun.
  const statuses = records(out).map((x) => x.status);
  expect(statuses.length).toBeGreaterThanOrEqual(1);
  expect(new Set(statuses)).toEqual(new Set(['interrupted']));
}, 60_000);

it('keeps the plain SIMD kernels with BNLAB_RELAXED_SIMD=0, the direct convolution with BNLAB_WINOGRAD=0', () => {
  const out = join(tmp, 'plain-simd');
  const r = spawnSync(
    process.execPath,
    [BIN, 'train', '--model', 'mlp', '--norm', 'none', '--train-limit', '128', '--test-limit', '100', '--out', out, '--quiet'],
    {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, BNLAB_RELAXED_SIMD: '0', BNLAB_WINOGRAD: '0' },
    },
  );
  expect(r.status).toBe(0);
  expect(environments(out).map((e) => e.simdKernels)).toEqual(['simd']);
  expect(environments(out).map((e) => e.winograd)).toEqual([false]);
});

it('stops cleanly on Ctrl-C, keeps the record, and resumes on the next run', async () => {
  const file = experiment('interrupt', 2048, 3);
  const out = join(tmp, 'interrupt');
  const child = spawn(process.execPath, [BIN, 'run', file, '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!sent && stdout.includes('"type":"trial-progress"')) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  expect(sent).toBe(true);
  expect(code).toBe(130);
  const after = records(out);
  expect(after).toHaveLength(1);
  expect(after[0]?.status).toBe('interrupted');
  expect(readdirSync(join(out, 'trials')).some((f) => f.includes('.tmp-'))).toBe(false);

  const again = spawnSync(process.execPath, [BIN, 'run', file, '--out', out, '--json'], { encoding: 'utf8', timeout: 120_000 });
  expect(again.status).toBe(0);
  const start = again.stdout.split('\n').find((l) => l.includes('"experiment-start"')) as string;
  expect(JSON.parse(start)).toMatchObject({ toRun: 4, skipped: 0 });
  expect(records(out).map((x) => x.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
});

it('stops as on Ctrl-C when the reader of its output goes away (`bnlab run --json | head -1`)', async () => {
  const file = experiment('closed-pipe', 2048, 3);
  const out = join(tmp, 'closed-pipe');
  const child = spawn(process.execPath, [BIN, 'run', file, '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    // As `head` does: read until a training step has been reported, then close the pipe.
    if (stdout.includes('"type":"trial-progress"')) child.stdout.destroy();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  expect(stderr).toMatch(/standard output was closed/);
  expect(stderr).not.toMatch(/EPIPE|internal error| {4}at /);
  expect(code).toBe(130);
  const after = records(out);
  expect(after).toHaveLength(1);
  expect(after[0]?.status).toBe('interrupted');
  expect(readdirSync(join(out, 'trials')).some((f) => f.includes('.tmp-'))).toBe(false);
});

it('stops the same way when standard error goes with it (`bnlab run --json 2>&1 | head -1`)', async () => {
  const file = experiment('closed-both', 2048, 3);
  const out = join(tmp, 'closed-both');
  const child = spawn(process.execPath, [BIN, 'run', file, '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('"type":"trial-progress"')) {
      child.stdout.destroy();
      child.stderr.destroy();
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  expect(code).toBe(130);
  const after = records(out);
  expect(after).toHaveLength(1);
  expect(after[0]?.status).toBe('interrupted');
  expect(readdirSync(join(out, 'trials')).some((f) => f.includes('.tmp-'))).toBe(false);
});

it("wasm-files copies tfjs-backend-wasm's three binaries for a web app, and exits 4 naming the folder it cannot make", () => {
  const dir = join(tmp, 'site', 'tfjs-wasm');
  const r = spawnSync(process.execPath, [BIN, 'wasm-files', dir], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  const names = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
  expect(r.stdout.trim().split('\n')).toEqual(names.map((n) => join(dir, n)));
  expect(readdirSync(dir).sort()).toEqual([...names].sort());
  const blocked = join(tmp, 'a-file');
  writeFileSync(blocked, '');
  const bad = spawnSync(process.execPath, [BIN, 'wasm-files', join(blocked, 'x')], { encoding: 'utf8' });
  expect(bad.status).toBe(4);
  expect(bad.stderr).toContain(`bnlab: could not make the folder ${join(blocked, 'x')} for the .wasm files`);
});

it('--version prints the package version', () => {
  const r = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version);
});

it('the committed bin shim runs the built command (npm links it before any build)', () => {
  const shim = join(__dirname, '../../bin/bnlab.cjs');
  const r = spawnSync(process.execPath, [shim, '--help'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('Usage: bnlab');
});
