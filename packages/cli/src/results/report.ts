import { join } from 'node:path';
import { featureMapFigure, sweepChart, writeReport } from '@bnlab/metrics';
import type { Figure, FeatureMapRow, SweepPoint, WrittenReport } from '@bnlab/metrics';
import type { TrialResult } from './store.js';
import { BnlabError } from '@bnlab/core';
import { ResultsStore } from './store.js';
import { expandTrials } from '../experiment/trials.js';

/**
 * (Re)builds a results folder's combined outputs from its trial files: `report.html`
 * (self-contained), `report.md` with `figures/`, `records.json`, `epochs.csv` and
 * `batches.csv`. Safe to run at any time: it only reads trial files and writes atomically.
 */
export async function buildResultsReport(dir: string): Promise<WrittenReport & { trials: number }> {
  const store = new ResultsStore(dir);
  const experiment = await store.experiment();
  const stored = await store.all();
  // Only the trials of the experiment as it stands: a trial file left from an earlier version
  // of it (another epoch count, a changed grid) has another id and stays out of the report.
  const current = experiment ? new Set(expandTrials(experiment, join(dir, 'experiment.json')).map((t) => t.id)) : null;
  const results = current ? stored.filter((r) => current.has(r.trial.id)) : stored;
  const leftOut = stored.length - results.length;
  if (!experiment && results.length === 0) {
    throw new BnlabError('DATA_MISSING', `${dir} is not a bnlab results folder (no experiment.json and no trials/)`, { where: dir });
  }
  if (results.length === 0) {
    throw new BnlabError('DATA_MISSING', `${dir}: no finished trials yet, nothing to report`, { where: dir });
  }
  const runs = results.map((r) => r.record);
  const title = experiment?.name ?? 'bnlab experiment';
  const gridPaths = Object.keys(experiment?.grid ?? {});
  const description = [
    experiment?.description,
    gridPaths.length
      ? `Grid over ${gridPaths.join(', ')}; seeds ${experiment?.seeds.join(', ')}. Results are mean ± 95% confidence interval over seeds (Student's t).`
      : undefined,
    leftOut > 0
      ? `${leftOut} trial ${leftOut === 1 ? 'file' : 'files'} in trials/ from an earlier version of this experiment ${leftOut === 1 ? 'is' : 'are'} left out.`
      : undefined,
  ]
    .filter(Boolean)
    .join('\n\n');
  const written = await writeReport(dir, {
    title,
    ...(description ? { description } : {}),
    ...(experiment
      ? {
          config: {
            dataset: experiment.dataset,
            model: experiment.model,
            training: experiment.training,
            seeds: experiment.seeds,
            grid: experiment.grid,
          },
        }
      : {}),
    runs,
    groupBy: 'variant',
    figures: [...(await sweepFigures(results, experiment?.labels ?? {})), ...(await featureMapFigures(results))],
  });
  return { ...written, trials: results.length };
}

/** One feature-map grid: a row per variant, from its first trial that recorded maps. */
async function featureMapFigures(results: readonly TrialResult[]): Promise<Figure[]> {
  const rows: FeatureMapRow[] = [];
  const seen = new Set<string>();
  for (const r of results) {
    const maps = r.featureMaps?.[0];
    if (!maps || seen.has(r.trial.variantLabel)) continue;
    seen.add(r.trial.variantLabel);
    rows.push({ label: `${r.trial.variantLabel} (seed ${r.trial.seed})`, maps: { ...maps, data: Float32Array.from(maps.data) } });
  }
  if (rows.length === 0) return [];
  return [
    await featureMapFigure(rows, {
      title: 'Feature maps of the first conv block, first test image',
      caption:
        'Outputs of the first conv block (after normalization and activation) for the same test image, one row per variant; each map is coloured over its own range.',
    }),
  ];
}

/** The label of a grid value: the experiment's `labels`, else the value itself. */
function valueLabel(labels: Record<string, string[]>, grid: Record<string, unknown[]> | undefined, path: string, value: unknown): string {
  const i = grid?.[path]?.findIndex((v) => JSON.stringify(v) === JSON.stringify(value)) ?? -1;
  const given = i >= 0 ? labels[path]?.[i] : undefined;
  if (given !== undefined) return given;
  if (value !== null && typeof value === 'object' && 'type' in (value as object)) return String((value as { type: unknown }).type);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * One chart per grid path: final test accuracy (mean ± 95% CI over seeds) against the
 * path's values, one series per combination of the other paths — the seeds' batch-size,
 * learning-rate and placement tables as pictures.
 */
async function sweepFigures(results: readonly TrialResult[], labels: Record<string, string[]>): Promise<Figure[]> {
  const paths = Object.keys(results[0]?.trial.variant ?? {});
  const grid: Record<string, unknown[]> = {};
  for (const r of results)
    for (const [p, v] of Object.entries(r.trial.variant)) {
      const list = (grid[p] ??= []);
      if (!list.some((x) => JSON.stringify(x) === JSON.stringify(v))) list.push(v);
    }
  const figures: Figure[] = [];
  for (const path of paths) {
    if ((grid[path]?.length ?? 0) < 2) continue;
    const numeric = grid[path]?.every((v) => typeof v === 'number') ?? false;
    const points = new Map<string, SweepPoint & { values: number[] }>();
    for (const r of results) {
      const acc = r.record.epochs[r.record.epochs.length - 1]?.testAccuracy;
      if (acc === undefined) continue;
      const v = r.trial.variant[path];
      const x = numeric ? (v as number) : valueLabel(labels, grid, path, v);
      const others = paths.filter((q) => q !== path).map((q) => `${q.split('.').pop()}=${valueLabel(labels, grid, q, r.trial.variant[q])}`);
      const series = others.length ? others.join(' ') : 'all';
      const key = JSON.stringify([series, x]);
      const point = points.get(key) ?? { series, x, values: [] };
      point.values.push(acc);
      points.set(key, point);
    }
    if (points.size === 0) continue;
    const name = path.split('.').pop() as string;
    figures.push(
      await sweepChart([...points.values()], {
        title: `Final test accuracy by ${name}`,
        xTitle: name,
        yTitle: 'Test accuracy',
        percent: true,
        xScale: numeric && (grid[path] as number[]).every((v) => v > 0) ? 'log' : 'ordinal',
        caption: `Final test accuracy (inference mode; batch norm with the statistics the experiment evaluates with) for each value of ${path}; mean and 95% confidence interval over seeds (the range with two).`,
      }),
    );
  }
  return figures;
}
