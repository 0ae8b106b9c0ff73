// The figures behind the reading of an activation-trace study (Ioffe & Szegedy's Figure 1) in
// docs/results/README.md, from a results folder's trial records, per variant, mean over seeds:
//
//   test@E         test accuracy after epoch E (1, 10 and the last)
//   step S         the traced unit's 15th / 50th / 85th percentiles after S steps
//   spread S       85th − 15th percentile after S steps
//   |Δ median|     mean change of the median between consecutive measurements from step 10,000 on
//
//   node docs/results/trace_claims.mjs docs/results/ioffe2015-figure1
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node docs/results/trace_claims.mjs <results folder>');
  process.exit(2);
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fixed = (x, d = 2) => x.toFixed(d);

const byVariant = new Map();
for (const file of readdirSync(join(dir, 'trials'))
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const { trial, record } = JSON.parse(readFileSync(join(dir, 'trials', file), 'utf8'));
  if (record.status !== 'completed') continue;
  if (!byVariant.has(trial.variantLabel)) byVariant.set(trial.variantLabel, []);
  byVariant.get(trial.variantLabel).push(record);
}

const STEPS = [0, 1000, 2000, 5000, 10000, 25000, 50000];
for (const [variant, records] of byVariant) {
  const epochs = records[0].epochs.length;
  const test = (e) => mean(records.map((r) => r.epochs[e - 1].testAccuracy * 100));
  console.log(
    `${variant} (${records.length} seeds): test@1 ${fixed(test(1))}%  test@10 ${fixed(test(10))}%  test@${epochs} ${fixed(test(epochs))}%`,
  );
  const traces = records.map((r) => r.activationTraces[0]);
  const at = (t, step) => t.values[t.steps.indexOf(step)];
  for (const step of STEPS.filter((s) => traces.every((t) => t.steps.includes(s)))) {
    const p = [0, 1, 2].map((j) => mean(traces.map((t) => at(t, step)[j])));
    console.log(`  step ${String(step).padStart(5)}: ${p.map((x) => fixed(x)).join(' / ')}  spread ${fixed(p[2] - p[0])}`);
  }
  const jitter = traces.map((t) => {
    const rows = t.steps.map((s, i) => [s, t.values[i][1]]).filter(([s]) => s >= 10000);
    return mean(rows.slice(1).map(([, m], i) => Math.abs(m - rows[i][1])));
  });
  console.log(`  |Δ median| from step 10,000: ${fixed(mean(jitter), 3)} [${jitter.map((x) => fixed(x, 3)).join(', ')}]`);
}
