// The figures behind the readings in docs/results/README.md, from a results folder's trial
// records (bnlab's per-trial JSON), per variant, mean over seeds (per seed in brackets):
//
//   first100   mean training loss over the first 100 batches      (faster convergence)
//   val@1      validation accuracy after epoch 1                  (faster convergence)
//   sd(batch)  SD of the per-batch training loss within epoch 2   (smoother training loss)
//   sd(val)    SD of the validation loss over epochs 3 … last     (smoother validation loss)
//   Δ300       mean absolute loss change between consecutive batches over the last 300 (late noise)
//   loss       final epoch's mean training loss
//   test       final test accuracy (inference mode; batch norm with the statistics the
//              experiment evaluates with: precise where recorded)
//   moving     the same with batch norm's moving averages, where recorded beside precise ones
//
//   node docs/results/claims.mjs docs/results/seed003-norm-types
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node docs/results/claims.mjs <results folder>');
  process.exit(2);
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

const byVariant = new Map();
for (const file of readdirSync(join(dir, 'trials'))
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const { trial, record } = JSON.parse(readFileSync(join(dir, 'trials', file), 'utf8'));
  if (record.status !== 'completed') continue;
  const batches = record.batches;
  const epochs = record.epochs;
  const last301 = batches.slice(-301);
  const row = {
    seed: trial.seed,
    first100: mean(batches.filter((b) => b.step < 100).map((b) => b.loss)),
    val1: epochs[0].valAccuracy,
    sdBatch: sd(batches.filter((b) => b.epoch === 1).map((b) => b.loss)),
    sdVal: sd(epochs.slice(2).map((e) => e.valLoss)),
    delta300: mean(last301.slice(1).map((b, i) => Math.abs(b.loss - last301[i].loss))),
    loss: epochs[epochs.length - 1].trainLoss,
    test: epochs[epochs.length - 1].testAccuracy,
    moving: epochs[epochs.length - 1].extra?.['bn/moving/testAccuracy'] ?? Number.NaN,
  };
  if (!byVariant.has(trial.variantLabel)) byVariant.set(trial.variantLabel, []);
  byVariant.get(trial.variantLabel).push(row);
}

const f =
  (key, digits, scale = 1) =>
  (rows) =>
    `${(scale * mean(rows.map((r) => r[key]))).toFixed(digits)} [${rows.map((r) => (scale * r[key]).toFixed(digits)).join(' ')}]`;
const columns = {
  first100: f('first100', 3),
  'val@1 %': f('val1', 2, 100),
  'sd(batch)': f('sdBatch', 4),
  'sd(val)': f('sdVal', 4),
  Δ300: f('delta300', 3),
  loss: f('loss', 4),
  'test %': f('test', 2, 100),
  'moving %': f('moving', 2, 100),
};
console.log(`| Variant | Runs | ${Object.keys(columns).join(' | ')} |`);
console.log(
  `| --- | ---: | ${Object.keys(columns)
    .map(() => '---:')
    .join(' | ')} |`,
);
for (const [label, rows] of byVariant) {
  console.log(
    `| ${label} | ${rows.length} | ${Object.values(columns)
      .map((c) => c(rows))
      .join(' | ')} |`,
  );
}
