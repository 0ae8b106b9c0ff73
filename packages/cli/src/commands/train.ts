import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BnlabError } from '@bnlab/core';
import { checkJsonShape } from '../experiment/json_shape.js';
import type { ExperimentInput } from '../experiment/schema.js';

/** Flags of `bnlab train`. */
export interface TrainFlags {
  dataset: string;
  model: string;
  norm: string;
  position?: string;
  epochs: string;
  batchSize: string;
  optimizer: string;
  lr: string;
  momentum?: string;
  seed: string;
  trainLimit?: string;
  testLimit?: string;
  validationSplit: string;
  out?: string;
}

/** Turns `--norm batch` or `--norm '{"type":"group","groups":8}'` into a spec. */
export function parseNormFlag(text: string): Record<string, unknown> {
  const t = text.trim();
  if (t.startsWith('{')) {
    let spec: Record<string, unknown>;
    try {
      spec = JSON.parse(t) as Record<string, unknown>;
    } catch (e) {
      throw new BnlabError('INVALID_ARGUMENT', `--norm: not valid JSON (${(e as Error).message}): ${text}`, { where: '--norm', cause: e });
    }
    checkJsonShape(spec, '--norm');
    return spec;
  }
  return { type: t };
}

/**
 * The experiment file `bnlab train` runs: one configuration, one seed. It is written into
 * the results folder, so the quick run is documented and can be rerun with `bnlab run`.
 */
export async function writeTrainExperiment(f: TrainFlags): Promise<{ file: string; outDir: string }> {
  const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
  const experiment: ExperimentInput = {
    name: `train-${f.dataset}-${f.model}-${parseNormFlag(f.norm).type as string}`,
    dataset: {
      name: f.dataset as never,
      validationSplit: Number(f.validationSplit),
      ...(f.trainLimit ? { trainLimit: num(f.trainLimit) as number } : {}),
      ...(f.testLimit ? { testLimit: num(f.testLimit) as number } : {}),
    },
    model: {
      architecture: f.model as never,
      norm: parseNormFlag(f.norm),
      ...(f.position ? { placement: { position: f.position as never } } : {}),
    },
    training: {
      epochs: Number(f.epochs),
      batchSize: Number(f.batchSize),
      optimizer: { name: f.optimizer as never, learningRate: Number(f.lr), ...(f.momentum ? { momentum: Number(f.momentum) } : {}) },
    },
    seeds: [Number(f.seed)],
  };
  const outDir = resolve(f.out ?? join('results', experiment.name));
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'train-experiment.json');
  await writeFile(file, JSON.stringify(experiment, null, 2) + '\n');
  return { file, outDir };
}
