import { Command, Option } from 'commander';
import { BnlabError, isBnlabError } from '@bnlab/core';
import { copyWasmFiles } from '@bnlab/core/node';
import { RETRY_DEFAULTS } from '@bnlab/datasets';
import { datasetStatus, DATASET_CHOICES, fetchDataset } from './commands/datasets.js';
import { recomputeBn } from './commands/recompute_bn.js';
import { writeTrainExperiment } from './commands/train.js';
import type { TrainFlags } from './commands/train.js';
import { DEFAULT_PRECISE_BATCHES, experimentJsonSchema } from './experiment/schema.js';
import { parseShard } from './experiment/trials.js';
import { EXIT, exitCodeFor } from './exit_codes.js';
import { buildResultsReport } from './results/report.js';
import { mergeResults } from './results/merge.js';
import { runExperiment } from './run/experiment_runner.js';
import type { RunSummary } from './run/experiment_runner.js';
import { createOutput, pct } from './run/output.js';
import type { OutputMode } from './run/output.js';

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** The terminal progress bars draw on, when there is one. */
  terminal?: NodeJS.WriteStream;
}

/**
 * Set when the reader of standard output or error has gone (EPIPE, e.g. `bnlab run --json |
 * head`, or `2>&1 | head`): what would go there is dropped.
 */
const closed = { stdout: false, stderr: false };

/** What a closed output does while a run or train command runs (set by {@link main}). */
let onOutputClosed: ((stream: 'stdout' | 'stderr') => void) | null = null;
let listening = false;

/**
 * Listens (once per process) for the standard streams' reader going away. A later write to
 * a stream that is already closed fails again (ERR_STREAM_DESTROYED) and is ignored too; any
 * other stream error is thrown as before. The listeners stay after main() returns: a write
 * still pending then may fail the same way.
 */
function listenForClosedOutput(): void {
  if (listening) return;
  listening = true;
  for (const stream of ['stdout', 'stderr'] as const) {
    process[stream].on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && !(closed[stream] && e.code === 'ERR_STREAM_DESTROYED')) throw e;
      if (closed[stream]) return;
      closed[stream] = true;
      onOutputClosed?.(stream);
    });
  }
}

const defaultIo: CliIo = {
  out: (s) => {
    if (!closed.stdout) process.stdout.write(s);
  },
  err: (s) => {
    if (!closed.stderr) process.stderr.write(s);
  },
  terminal: process.stderr,
};

const EXIT_HELP = `
Exit codes: 0 every trial finished (completed or diverged), 1 some trials failed,
2 bad usage or experiment file, 3 dataset or results files missing or unreadable, 4 read/write error,
5 internal error, 130 interrupted (rerun the same command to resume).

Environment: BNLAB_RELAXED_SIMD=0 keeps bnlab's kernels on plain WebAssembly SIMD (by
default they use relaxed SIMD's fused multiply-add where the engine has it; on Node 20
bnlab turns on V8's --experimental-wasm-relaxed-simd for that). BNLAB_WINOGRAD=0 computes
3×3 stride-1 convolutions directly, not as Winograd F(4×4, 3×3) (the default: about twice as
fast, with rounding a little larger).`;

function outputMode(o: { quiet?: boolean; json?: boolean }): OutputMode {
  return o.json ? 'json' : o.quiet ? 'quiet' : 'human';
}

function summaryExit(s: RunSummary): number {
  if (s.interrupted > 0) return EXIT.interrupted;
  return s.failed > 0 ? EXIT.trialsFailed : EXIT.ok;
}

/**
 * Runs the `bnlab` command line with `argv` (without `node` and the script) and returns the
 * exit code. Errors become one paragraph on stderr (a stack trace only with `--debug`).
 */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let code: number = EXIT.ok;
  const stop = { requested: false, onRequest: undefined as undefined | (() => void) };
  const onSigint = (): void => {
    if (stop.requested) process.exit(EXIT.interrupted); // a second Ctrl-C: leave now
    stop.requested = true;
    stop.onRequest?.();
    io.err('\nbnlab: stopping after the current batch (Ctrl-C again to quit at once)…\n');
  };
  // A closed standard output or error (its reader exited) stops a run as Ctrl-C does: the
  // current trial is kept as interrupted and the same command resumes it, instead of a crash.
  const onClosed = (stream: 'stdout' | 'stderr'): void => {
    if (stop.requested) return;
    stop.requested = true;
    stop.onRequest?.();
    io.err(
      `\nbnlab: standard ${stream === 'stdout' ? 'output' : 'error'} was closed; stopping after the current batch (run the same command again to resume)…\n`,
    );
  };
  /** Ctrl-C and a closed output stop the run `body` performs (and only while it runs). */
  const stoppable = async (body: () => Promise<void>): Promise<void> => {
    process.on('SIGINT', onSigint);
    if (io === defaultIo) {
      listenForClosedOutput();
      onOutputClosed = onClosed;
      if (closed.stdout || closed.stderr) onClosed(closed.stdout ? 'stdout' : 'stderr');
    }
    try {
      await body();
    } finally {
      process.off('SIGINT', onSigint);
      if (onOutputClosed === onClosed) onOutputClosed = null;
    }
  };
  const program = new Command('bnlab')
    .description('Run normalization experiments on TensorFlow.js (SIMD WebAssembly backend).')
    .version(cliVersion(), '-V, --version', 'print the version of @bnlab/cli')
    .option('--debug', 'print stack traces of errors')
    .addHelpText('after', EXIT_HELP)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run with --help for usage)');

  const runLike = (cmd: Command): Command =>
    cmd
      .option('-o, --out <dir>', 'results folder (default: results/<experiment name>)')
      .option('-w, --workers <n>', 'parallel worker processes', '1')
      .option(
        '-t, --threads <n>',
        "threads for bnlab's kernels in each worker: a number, or auto (the machine's cores shared among the workers)",
        'auto',
      )
      .addOption(new Option('--backend <name>', 'tfjs backend').choices(['wasm', 'cpu']).default('wasm'))
      .option('-q, --quiet', 'print only the final summary')
      .option('--json', 'print events as JSON lines on stdout (for machines)')
      .option('--online', 'allow downloading missing datasets');

  runLike(
    program
      .command('run')
      .description('run every trial of an experiment file and write a results folder (per-trial JSON, CSV, plots, report.html)')
      .argument('<experiment>', 'experiment file (JSON)')
      .option('--shard <i/n>', 'run only shard i of n (0 ≤ i < n), for job arrays; combine with `bnlab merge`')
      .option('-y, --yes', 'run even when the grid expands to more than --max-trials trials')
      .option('--max-trials <n>', 'largest number of trials run without --yes', '100')
      .option('--no-report', 'do not build the report (e.g. for a shard)'),
  ).action(async (file: string, o: Record<string, string | boolean | undefined>) => {
    const output = createOutput(outputMode(o), io);
    await stoppable(async () => {
      try {
        const summary = await runExperiment({
          file,
          ...(typeof o.out === 'string' ? { outDir: o.out } : {}),
          workers: positiveInt(o.workers as string, '--workers'),
          threads: threadsOption(o.threads as string),
          ...(typeof o.shard === 'string' ? { shard: parseShard(o.shard) } : {}),
          maxTrials: positiveInt(o.maxTrials as string, '--max-trials'),
          yes: Boolean(o.yes),
          backend: o.backend as 'wasm' | 'cpu',
          offline: !o.online,
          listener: output,
          stop,
          noReport: o.report === false,
        });
        code = summaryExit(summary);
      } finally {
        output.close();
      }
    });
  });

  runLike(
    program
      .command('train')
      .description('train one model once, from flags (a one-trial experiment)')
      .addOption(new Option('--dataset <name>', 'dataset').choices([...DATASET_CHOICES]).default('mnist'))
      .addOption(
        new Option('--model <arch>', 'architecture')
          .choices(['mlp', 'simpleCnn', 'kerasCnn', 'convNet4', 'resnet', 'vgg'])
          .default('kerasCnn'),
      )
      .option(
        '--norm <spec>',
        'normalization: batch | layer | group | instance | none, or a JSON spec such as \'{"type":"group","groups":8}\'',
        'batch',
      )
      .addOption(
        new Option('--position <where>', 'normalization before or after the activation').choices(['before-activation', 'after-activation']),
      )
      .option('--epochs <n>', 'epochs', '1')
      .option('--batch-size <n>', 'batch size', '64')
      .addOption(new Option('--optimizer <name>', 'optimizer').choices(['adam', 'sgd', 'rmsprop']).default('adam'))
      .option('--lr <rate>', 'learning rate', '0.001')
      .option('--momentum <m>', 'momentum (sgd, rmsprop)')
      .option('--seed <n>', 'seed', '0')
      .option('--train-limit <n>', 'use only the first n training images')
      .option('--test-limit <n>', 'use only the first n test images')
      .option('--validation-split <f>', 'fraction held out for validation', '0'),
  ).action(async (o: TrainFlags & Record<string, string | boolean | undefined>) => {
    const { file, outDir } = await writeTrainExperiment(o);
    const output = createOutput(outputMode(o as { quiet?: boolean; json?: boolean }), io);
    await stoppable(async () => {
      try {
        const summary = await runExperiment({
          file,
          outDir,
          workers: 1,
          threads: threadsOption(o.threads as string),
          backend: o.backend as 'wasm' | 'cpu',
          offline: !o.online,
          listener: output,
          stop,
        });
        code = summaryExit(summary);
      } finally {
        output.close();
      }
    });
  });

  program
    .command('report')
    .description('rebuild a results folder’s report (report.html, report.md, figures, CSV) from its trial files')
    .argument('<results>', 'results folder')
    .action(async (dir: string) => {
      const r = await buildResultsReport(dir);
      io.out(`report of ${r.trials} trials: ${r.html}\n`);
    });

  program
    .command('merge')
    .description('combine shard results folders of one experiment into one folder and report it')
    .argument('<out>', 'merged results folder')
    .argument('<shards...>', 'shard results folders')
    .action(async (out: string, shards: string[]) => {
      const m = await mergeResults(out, shards);
      const r = await buildResultsReport(out);
      io.out(`merged ${m.trials} trials from ${m.shards} shards: ${r.html}\n`);
      if (m.unfinished > 0) {
        io.err(
          `bnlab: ${m.unfinished} of the experiment's ${m.expected} trials are missing or unfinished in these shards (a shard not run or not finished yet?); the report covers the others\n`,
        );
        code = EXIT.trialsFailed;
      }
    });

  const datasets = program.command('datasets').description('list, fetch and verify datasets');
  datasets
    .command('list')
    .description('which datasets are available locally (never downloads)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const rows = await datasetStatus();
      if (o.json) io.out(JSON.stringify(rows) + '\n');
      else
        for (const r of rows)
          io.out(
            r.available
              ? `${r.name.padEnd(14)} ok       ${r.train} train, ${r.test} test, ${r.classes} classes, ${r.imageShape?.join('×')}\n`
              : `${r.name.padEnd(14)} missing  ${r.problem}\n`,
          );
    });
  datasets
    .command('verify')
    .description('load and check a dataset from local files (sizes, format, checksums)')
    .argument('[names...]', 'datasets (default: all)')
    .option('--folder <dir>', 'read the dataset from this folder')
    .action(async (names: string[], o: { folder?: string }) => {
      const rows = await datasetStatus(names.length ? names : DATASET_CHOICES, o);
      for (const r of rows) io.out(r.available ? `${r.name}: ok (${r.train} train, ${r.test} test)\n` : `${r.name}: ${r.problem}\n`);
      if (rows.some((r) => !r.available)) code = EXIT.dataMissing;
    });
  datasets
    .command('fetch')
    .description('download a dataset into the cache and verify its checksums')
    .argument('<name>', 'dataset')
    .option('--base-url <url>', 'download from this base URL')
    .option('--cache-dir <dir>', 'cache folder (default: $BNLAB_CACHE_DIR or the user cache folder)')
    .option('--retries <n>', `further attempts after a failed one (default ${RETRY_DEFAULTS.retries})`)
    .option(
      '--idle-timeout <seconds>',
      `give up an attempt when no bytes arrive for this long (default ${RETRY_DEFAULTS.idleTimeoutMs / 1000})`,
    )
    .option(
      '--timeout <seconds>',
      'give up an attempt that lasts longer than this in all (default: the idle timeout plus 1 s per 16 KiB of the file)',
    )
    .action(async (name: string, o: { baseUrl?: string; cacheDir?: string; retries?: string; idleTimeout?: string; timeout?: string }) => {
      const r = await fetchDataset(name, {
        ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}),
        ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
        ...(o.retries !== undefined ? { retries: nonNegativeInt(o.retries, '--retries') } : {}),
        ...(o.idleTimeout !== undefined ? { idleTimeoutMs: positiveSeconds(o.idleTimeout, '--idle-timeout') * 1000 } : {}),
        ...(o.timeout !== undefined ? { timeoutMs: positiveSeconds(o.timeout, '--timeout') * 1000 } : {}),
      });
      io.out(r.available ? `${r.name}: ok (${r.train} train, ${r.test} test)\n` : `${r.name}: ${r.problem}\n`);
      if (!r.available) code = EXIT.usage;
    });

  program
    .command('recompute-bn')
    .description("recompute a saved model's batch-norm statistics over training batches (precise BN) and save it")
    .argument('<model>', 'folder of the saved model (model.json + weights)')
    .addOption(new Option('--dataset <name>', 'dataset its training split comes from').choices([...DATASET_CHOICES]).default('mnist'))
    .option('--dir <folder>', 'read the dataset from this folder')
    .option('--image-archive <file>', 'CIFAR-10 as a .tar.gz of class folders of images')
    .addOption(new Option('--scaling <how>', 'pixel scaling the model was trained with').choices(['unit', 'standardize']).default('unit'))
    .option('--train-limit <n>', 'use only the first n training images')
    .option('--test-limit <n>', 'evaluate on the first n test images only')
    .option('--batches <n>', `training batches to compute the statistics over (default ${DEFAULT_PRECISE_BATCHES}, or the whole split)`)
    .option('--batch-size <n>', 'batch size: the one the model was trained with', '64')
    .option('--include-frozen', 'recompute frozen batch-norm layers too')
    .option('--seed <n>', 'seed of the batch order', '0')
    .option('-o, --out <dir>', "save the model here (default: over the model's own folder, atomically)")
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(['wasm', 'cpu']).default('wasm'))
    .option('--online', 'allow downloading missing datasets')
    .action(async (dir: string, o: Record<string, string | boolean | undefined>) => {
      const num = (v: unknown, flag: string): number | undefined => (typeof v === 'string' ? positiveInt(v, flag) : undefined);
      const trainLimit = num(o.trainLimit, '--train-limit');
      const testLimit = num(o.testLimit, '--test-limit');
      const batches = num(o.batches, '--batches');
      const r = await recomputeBn({
        model: dir,
        ...(typeof o.out === 'string' ? { out: o.out } : {}),
        dataset: {
          name: o.dataset,
          scaling: o.scaling,
          ...(typeof o.dir === 'string' ? { dir: o.dir } : {}),
          ...(typeof o.imageArchive === 'string' ? { imageArchive: o.imageArchive } : {}),
          ...(trainLimit !== undefined ? { trainLimit } : {}),
          ...(testLimit !== undefined ? { testLimit } : {}),
        },
        ...(batches !== undefined ? { batches } : {}),
        batchSize: positiveInt(o.batchSize as string, '--batch-size'),
        includeFrozen: Boolean(o.includeFrozen),
        seed: Number(o.seed ?? 0),
        backend: o.backend as 'wasm' | 'cpu',
        offline: !o.online,
      });
      for (const s of r.skipped) io.out(`skipped ${s.name}: ${s.reason}\n`);
      if (r.note) {
        io.out(`${dir}: ${r.note}; the model is unchanged (test accuracy ${pct(r.accuracyBefore)})\n`);
        return;
      }
      io.out(
        `recomputed ${r.updated.length} batch-norm layer${r.updated.length === 1 ? '' : 's'} (${r.updated.map((u) => u.name).join(', ')}) over ${r.batches} batches, ${r.examples} examples\n` +
          `test accuracy ${pct(r.accuracyBefore)} with the previous statistics, ${pct(r.accuracyAfter)} with the recomputed ones\n` +
          `saved: ${r.savedTo}\n`,
      );
    });

  program
    .command('wasm-files')
    .description(
      "copy tfjs-backend-wasm's three .wasm files into a folder a web app serves (then initBackend({ wasmPaths: '<its URL>/' }))",
    )
    .argument('<dir>', 'folder to copy them into (made if missing)')
    .action(async (dir: string) => {
      const written = await copyWasmFiles(dir);
      io.out(written.map((f) => `${f}\n`).join(''));
    });

  program
    .command('schema')
    .description('print the JSON Schema of experiment files (for editors)')
    .action(() => {
      io.out(JSON.stringify(experimentJsonSchema(), null, 2) + '\n');
    });

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return code;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      // help and version exit 0; usage errors were already printed by commander
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const debug = argv.includes('--debug');
    if (isBnlabError(e)) {
      io.err(`bnlab: ${e.message}\n${debug && e.stack ? e.stack + '\n' : ''}`);
      return exitCodeFor(e.code);
    }
    io.err(
      `bnlab: internal error: ${(e as Error)?.message ?? String(e)}\n${debug ? ((e as Error)?.stack ?? '') + '\n' : 'Run again with --debug for the stack trace.\n'}`,
    );
    return EXIT.internal;
  }
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new BnlabError('INVALID_ARGUMENT', `${flag} must be a positive integer, got "${text}"`, { where: flag });
  return n;
}

/** `--threads`: `auto`, or a whole number from 1 to 256 (initBackend's range). */
function threadsOption(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 1 || n > 256) {
    throw new BnlabError('INVALID_ARGUMENT', `--threads must be auto or a whole number from 1 to 256, got "${text}"`, {
      where: '--threads',
    });
  }
  return n;
}

function nonNegativeInt(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0)
    throw new BnlabError('INVALID_ARGUMENT', `${flag} must be a non-negative integer, got "${text}"`, { where: flag });
  return n;
}

function positiveSeconds(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new BnlabError('INVALID_ARGUMENT', `${flag} must be a positive number of seconds, got "${text}"`, { where: flag });
  return n;
}

/** The version of this package (the CommonJS build the `bnlab` command runs can read it). */
function cliVersion(): string {
  try {
    return typeof require === 'function' ? (require('@bnlab/cli/package.json') as { version: string }).version : 'unknown';
  } catch {
    return 'unknown';
  }
}
