// Whole-machine throughput on a sweep of independent trials (issue 6's two-core target):
// runs one experiment file with the `bnlab` command, `--workers 1` and `--workers N` in turn,
// each into a fresh results folder, and reports the speedup pair by pair (wall time of the
// whole command, and the trials' own window from the first trial's start to the last one's end).
//
//   node sweep.mjs                                 # sweep-mnist.json, 2 workers, 3 pairs
//   node sweep.mjs --experiment ../experiments/quick.json --pairs 5 --json out.json

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HELP = `Usage: node sweep.mjs [options]
  --experiment FILE   experiment file (default: sweep-mnist.json here: seed 000's sweep, 6 trials
                      of one epoch of MNIST)
  --workers N         worker processes of the parallel side (default 2)
  --pairs K           measurements of each side, alternating which goes first (default 3)
  --json FILE         also write the figures as JSON
  --help`;

const { values: opts } = parseArgs({
  options: {
    experiment: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), 'sweep-mnist.json') },
    workers: { type: 'string', default: '2' },
    pairs: { type: 'string', default: '3' },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(HELP);
  process.exit(0);
}
const WORKERS = Number(opts.workers);
const PAIRS = Number(opts.pairs);
if (!(Number.isInteger(WORKERS) && WORKERS >= 2) || !(Number.isInteger(PAIRS) && PAIRS >= 1)) {
  console.error('sweep.mjs: --workers must be an integer ≥ 2 and --pairs ≥ 1');
  process.exit(2);
}

const require = createRequire(import.meta.url);
const BIN = join(dirname(require.resolve('@bnlab/cli/package.json')), 'bin', 'bnlab.cjs');

/** The sweep running now: on Ctrl-C it is killed and its results folder removed. */
let current = null;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current) {
      // bnlab runs in its own process group (with its worker processes): end all of it.
      try {
        process.kill(-current.child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      rmSync(current.dir, { recursive: true, force: true });
    }
    console.error(`sweep.mjs: stopped (${signal}); no figures written`);
    process.exit(130);
  });
}

/** Runs the whole experiment with `workers` processes into a fresh folder; returns its timings. */
function runSweep(workers) {
  const dir = mkdtempSync(join(tmpdir(), 'bnlab-sweep-'));
  const out = join(dir, 'results');
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, 'run', opts.experiment, '--out', out, '--workers', String(workers), '--quiet'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    current = { child, dir };
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const done = (error, result) => {
      current = null;
      rmSync(dir, { recursive: true, force: true });
      if (error) reject(error);
      else resolve(result);
    };
    child.on('error', (e) => done(new Error(`could not start bnlab (${BIN}): ${e.message}`)));
    child.on('close', (code, signal) => {
      const wall = (performance.now() - t0) / 1000;
      try {
        if (code !== 0) throw new Error(`bnlab run --workers ${workers} exited ${signal ?? code}:\n${stderr}`);
        const trials = readdirSync(join(out, 'trials'))
          .filter((f) => f.endsWith('.json'))
          .map((f) => JSON.parse(readFileSync(join(out, 'trials', f), 'utf8')).record);
        const start = Math.min(...trials.map((r) => Date.parse(r.startedAt)));
        const end = Math.max(...trials.map((r) => Date.parse(r.finishedAt)));
        const trialSeconds = trials.reduce((s, r) => s + (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000, 0);
        done(null, { workers, wall, window: (end - start) / 1000, trialSeconds, trials: trials.length });
      } catch (e) {
        done(e);
      }
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const pairs = [];
for (let p = 0; p < PAIRS; p++) {
  // Alternate which side goes first, so a machine slowing down or speeding up favours neither.
  const order = p % 2 === 0 ? [1, WORKERS] : [WORKERS, 1];
  const runs = {};
  for (const w of order) runs[w] = await runSweep(w);
  const one = runs[1];
  const many = runs[WORKERS];
  const pair = {
    pair: p + 1,
    trials: one.trials,
    '1 worker s': +one.wall.toFixed(1),
    [`${WORKERS} workers s`]: +many.wall.toFixed(1),
    speedup: +(one.wall / many.wall).toFixed(2),
    'trials window speedup': +(one.window / many.window).toFixed(2),
  };
  pairs.push({ ...pair, runs: [one, many] });
  console.error(JSON.stringify(pair));
}

/** Median, min and max over the pairs of one ratio, from the unrounded timings. */
const summary = (ratio) => {
  const xs = pairs.map((p) => ratio(p.runs[0], p.runs[1]));
  const r = (x) => +x.toFixed(2);
  return { median: r(median(xs)), min: r(Math.min(...xs)), max: r(Math.max(...xs)) };
};
console.log(`${opts.experiment}: --workers 1 against --workers ${WORKERS}, ${PAIRS} pairs (whole bnlab commands, fresh results folders)`);
console.table(pairs.map(({ runs, ...row }) => row));
const doc = {
  date: new Date().toISOString(),
  experiment: opts.experiment,
  workers: WORKERS,
  pairs,
  speedup: summary((one, many) => one.wall / many.wall),
  trialsWindowSpeedup: summary((one, many) => one.window / many.window),
};
console.log(
  `speedup of the whole command: median ${doc.speedup.median} (${doc.speedup.min}–${doc.speedup.max}); ` +
    `of the trials' window: median ${doc.trialsWindowSpeedup.median} (${doc.trialsWindowSpeedup.min}–${doc.trialsWindowSpeedup.max})`,
);
if (opts.json) writeFileSync(opts.json, JSON.stringify(doc, null, 2) + '\n');
