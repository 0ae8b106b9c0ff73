import { BnlabError } from '@bnlab/core';
import { canonicalJson, expandTrials } from '../experiment/trials.js';
import { ResultsStore } from './store.js';
import type { TrialResult } from './store.js';

const RANK: Record<string, number> = { completed: 3, diverged: 3, failed: 2, interrupted: 1, running: 0 };

/**
 * Combines the results folders of shards (`bnlab run --shard i/n`) of one experiment into
 * one folder. Every shard must hold the same experiment; when a trial appears in several,
 * the finished result wins over a failed or interrupted one. Returns how many of the
 * experiment's trials no shard finished (`unfinished`), so a missing shard is noticed.
 */
export async function mergeResults(
  outDir: string,
  shardDirs: readonly string[],
): Promise<{ trials: number; shards: number; expected: number; unfinished: number }> {
  if (shardDirs.length === 0) throw new BnlabError('INVALID_ARGUMENT', 'merge needs at least one shard folder');
  let experiment = null;
  let reference = '';
  const best = new Map<string, TrialResult>();
  for (const dir of shardDirs) {
    const store = new ResultsStore(dir);
    const e = await store.experiment();
    if (!e) throw new BnlabError('DATA_MISSING', `${dir} is not a bnlab results folder (no experiment.json)`, { where: dir });
    const key = canonicalJson(e);
    if (experiment === null) {
      experiment = e;
      reference = key;
    } else if (key !== reference) {
      throw new BnlabError(
        'INVALID_ARGUMENT',
        `${dir} holds a different experiment than ${shardDirs[0]}; only shards of one experiment can be merged`,
        { where: dir },
      );
    }
    for (const r of await store.all()) {
      const prev = best.get(r.trial.id);
      if (!prev || (RANK[r.record.status] ?? 0) > (RANK[prev.record.status] ?? 0)) best.set(r.trial.id, r);
    }
  }
  const out = new ResultsStore(outDir);
  await out.init(experiment as NonNullable<typeof experiment>);
  for (const r of best.values()) await out.write(r);
  // The trials the experiment has that no shard finished (a shard not run, still running, or
  // with failed or interrupted trials).
  const expected = expandTrials(experiment as NonNullable<typeof experiment>, 'experiment.json');
  const unfinished = expected.filter((t) => (RANK[best.get(t.id)?.record.status ?? 'running'] ?? 0) < 3).length;
  return { trials: best.size, shards: shardDirs.length, expected: expected.length, unfinished };
}
