import cliProgress from 'cli-progress';
import type { RunEvent, RunListener } from './events.js';

/** How the CLI talks: progress bars for people, nothing but the summary, or JSON lines. */
export type OutputMode = 'human' | 'quiet' | 'json';

/** An accuracy as percent with two decimals; `–` when there is none. */
export const pct = (x: number | undefined): string => (x === undefined ? '–' : `${(100 * x).toFixed(2)}%`);

/**
 * Turns run events into output. `human`: one bar per running trial and an overall bar with
 * ETA (on a terminal; plain lines otherwise); `quiet`: only the final summary; `json`: one
 * JSON object per event on stdout, for machines.
 */
export function createOutput(
  mode: OutputMode,
  io: { out: (s: string) => void; err: (s: string) => void; terminal?: NodeJS.WriteStream } = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    terminal: process.stderr,
  },
): RunListener & { close(): void } {
  if (mode === 'json') {
    const listener = (e: RunEvent): void => {
      io.out(JSON.stringify(e) + '\n');
    };
    return Object.assign(listener, { close() {} });
  }
  const say = (line: string): void => {
    io.err(line + '\n');
  };
  if (mode === 'quiet') {
    const listener = (e: RunEvent): void => {
      if (e.type === 'experiment-end') say(summary(e));
    };
    return Object.assign(listener, { close() {} });
  }

  const stream = io.terminal;
  const multi = stream?.isTTY
    ? new cliProgress.MultiBar(
        { stream, clearOnComplete: true, hideCursor: true, format: ' {bar} {percentage}% | {label} | {info}', barsize: 24, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let overall: cliProgress.SingleBar | null = null;
  const bars = new Map<string, cliProgress.SingleBar>();
  const log = (line: string): void => {
    if (multi) multi.log(line + '\n');
    else say(line);
  };
  const listener = (e: RunEvent): void => {
    switch (e.type) {
      case 'experiment-start':
        log(
          `${e.name}: ${e.trials} trials, ${e.skipped} already finished, ${e.toRun} to run on ${e.workers} worker(s) × ${e.threads} thread(s) → ${e.outDir}`,
        );
        if (multi)
          overall = multi.create(
            e.toRun,
            0,
            { label: 'all trials', info: 'ETA …' },
            { format: ' {bar} {value}/{total} trials | ETA {eta_formatted}' },
          );
        break;
      case 'trial-start':
        if (multi) bars.set(e.id, multi.create(e.totalSteps, 0, { label: `${e.label} seed ${e.seed}`, info: '' }));
        else log(`start  ${e.label} seed ${e.seed}`);
        break;
      case 'trial-resume':
        bars.get(e.id)?.update(e.step, { info: `resumed at epoch ${e.epoch + 1}` });
        if (!multi) log(`resume ${e.id} at epoch ${e.epoch + 1} of its checkpoint`);
        break;
      case 'checkpoint-problem':
        log(`note   ${e.message}`);
        break;
      case 'trial-progress':
        bars.get(e.id)?.update(e.step, { info: `loss ${e.loss.toFixed(4)}` });
        break;
      case 'epoch': {
        const r = e.record;
        const msg = `epoch ${r.epoch + 1}: loss ${r.trainLoss.toFixed(4)}, val ${pct(r.valAccuracy)}, test ${pct(r.testAccuracy)}, ${Math.round(r.imagesPerSecond)} img/s`;
        if (!multi) log(`       ${e.id} ${msg}`);
        break;
      }
      case 'trial-end': {
        const bar = bars.get(e.id);
        if (bar && multi) multi.remove(bar);
        bars.delete(e.id);
        overall?.increment();
        // Batch norm's figure depends on the statistics it normalizes with: say which, and
        // show the others beside it (the moving averages can lag far behind the weights).
        const bn = e.batchNorm;
        const how = !bn
          ? 'inference mode'
          : bn.statistics === 'precise'
            ? `precise BN statistics; moving averages ${pct(bn.movingTestAccuracy)}${bn.batchStatisticsTestAccuracy !== undefined ? `, batch statistics ${pct(bn.batchStatisticsTestAccuracy)}` : ''}`
            : `BN moving averages${bn.batchStatisticsTestAccuracy !== undefined ? `; batch statistics ${pct(bn.batchStatisticsTestAccuracy)}` : ''}`;
        log(
          `${e.status.padEnd(11)} ${e.label} seed ${e.seed}: test accuracy ${pct(e.testAccuracy)} (${how}) in ${e.seconds.toFixed(1)} s${e.error ? ` — ${e.error}` : ''}`,
        );
        break;
      }
      case 'experiment-end':
        multi?.stop();
        say(summary(e));
        break;
    }
  };
  return Object.assign(listener, {
    close() {
      multi?.stop();
    },
  });
}

function summary(e: Extract<RunEvent, { type: 'experiment-end' }>): string {
  return (
    `done in ${e.seconds.toFixed(1)} s: ${e.completed} completed, ${e.diverged} diverged, ${e.failed} failed` +
    `${e.interrupted ? `, ${e.interrupted} interrupted` : ''}, ${e.skipped} skipped (already finished). Results: ${e.outDir}`
  );
}
