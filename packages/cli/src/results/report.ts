import { featureMapFigure, writeReport } from '@bnlab/metrics';
import type { Figure, FeatureMapRow, WrittenReport } from '@bnlab/metrics';
import type { TrialResult } from './store.js';
import { BnlabError } from '@bnlab/core';
import { ResultsStore } from './store.js';

/**
 * (Re)builds a results folder's combined outputs from its trial files: `report.html`
 * (self-contained), `report.md` with `figures/`, `records.json`, `epochs.csv` and
 * `batches.csv`. Safe to run at any time: it only reads trial files and writes atomically.
 */
export async function buildResultsReport(dir: string): Promise<WrittenReport & { trials: number }> {
  const store = new ResultsStore(dir);
  const experiment = await store.experiment();
  const results = await store.all();
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
  ]
    .filter(Boolean)
    .join('\n\n');
  const written = await writeReport(dir, {
    title,
    ...(description ? { description } : {}),
    ...(experiment ? { config: { dataset: experiment.dataset, model: experiment.model, training: experiment.training, seeds: experiment.seeds, grid: experiment.grid } } : {}),
    runs,
    groupBy: 'variant',
    figures: await featureMapFigures(results),
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
      caption: 'Outputs of the first conv block (after normalization and activation) for the same test image, one row per variant; each map is coloured over its own range.',
    }),
  ];
}
