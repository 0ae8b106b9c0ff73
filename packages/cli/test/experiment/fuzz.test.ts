// Property tests of the experiment loader, as `bnlab run` uses it (read the file, count the
// trials, expand them): whatever an experiment file holds — any bytes, any JSON value, or an
// example file with fields deleted, replaced, retyped or nested thousands of levels deep, grid
// paths through `__proto__` or `constructor`, grids far too large, byte order marks — it loads,
// or it is refused with a BnlabError INVALID_CONFIG whose message names the file and then the
// field; never another exception, never a changed Object.prototype, never more than a time and
// heap budget per case. A loaded experiment has as many trials as the product of its grid's
// sizes times its seeds, less the excluded combinations times its seeds. Set
// BNLAB_FUZZ_RUNS=<n> to run every property n times (a longer search; the default is quick).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BnlabError } from '@bnlab/core';
import fc from 'fast-check';
import { loadExperiment } from '../../src/experiment/load.js';
import { MAX_NESTING } from '../../src/experiment/json_shape.js';
import { experimentSchema } from '../../src/experiment/schema.js';
import type { Experiment } from '../../src/experiment/schema.js';
import { countTrials, expandTrials, TRIAL_CEILING } from '../../src/experiment/trials.js';
import type { Trial } from '../../src/experiment/trials.js';
import { main } from '../../src/program.js';
import { corruptedBytes, FuzzOutcomes, fuzzParameters, fuzzTimeLimit, measured } from '../../../../test-support/fuzz.js';
import {
  copy,
  define,
  jsonDepth,
  mutatedText,
  mutationArb,
  slots,
  textChangeArb,
  valueAt,
} from '../../../../test-support/json_mutations.js';
import type { Json, Slot } from '../../../../test-support/json_mutations.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnlab-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** Every case is written here: the name its errors must begin with. */
const FILE = join(tmp, 'experiment.json');

const EXAMPLES_DIR = join(__dirname, '../../../../examples/experiments');
const EXAMPLES: { name: string; text: string; json: Json }[] = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((name) => {
    const text = readFileSync(join(EXAMPLES_DIR, name), 'utf8');
    return { name, text, json: JSON.parse(text) as Json };
  });

/** A small experiment whose trials are cheap to expand. */
const SMALL: Json = {
  name: 'fuzz',
  dataset: { name: 'mnist', trainLimit: 256, validationSplit: 0.25 },
  model: { architecture: 'mlp', options: { hiddenUnits: [8] } },
  training: { epochs: 1, batchSize: 16 },
};

/**
 * Per case, whatever it holds: far above the slowest case here (well under a second: 120,000
 * grid values), so that only a hang or a runaway allocation fails it on a busy machine. Valid
 * grids of near 100,000 trials, about 5 s to expand, stay out of the random files.
 */
const BUDGET = { ms: 10_000, heapBytes: 256 * 1024 * 1024 };

/** What the loader returns, in the steps `bnlab run` takes before any data is read. */
interface Loaded {
  experiment: Experiment;
  count: number;
  trials: Trial[];
}

async function loadForRun(file: string): Promise<Loaded> {
  const experiment = await loadExperiment(file);
  const count = countTrials(experiment, file);
  const trials = expandTrials(experiment, file);
  return { experiment, count, trials };
}

const outcomes = new FuzzOutcomes((e) => e instanceof BnlabError);
beforeEach(() => outcomes.reset());
afterEach(() => {
  // Every property reaches both outcomes: files that load (the unchanged examples, harmless
  // changes) and files refused.
  expect(outcomes.ok).toBeGreaterThan(0);
  expect(outcomes.error).toBeGreaterThan(0);
});

/** The top-level fields of an experiment file. */
const FIELDS = Object.keys(experimentSchema.shape);
const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What a refusal's message says after the file's name: where (a field of the file, the top level,
 * or an index of a top-level list), after the heading of the schema's list of problems if any.
 * `keys` are the top-level keys of the file, the fields it has beside the known ones.
 */
function location(keys: readonly string[]): RegExp {
  const names = [...FIELDS, ...keys.filter((k) => /^[A-Za-z_$][\w$]*$/.test(k))].map(escaped).join('|');
  return new RegExp(
    `^(invalid experiment( \\(grid variant "[^\\n]*"\\))?:\\n  )?(((${names})\\b)|\\(top level\\)|\\[|not valid JSON|the grid and seeds)`,
  );
}

/** The top-level keys of a file's JSON, if it is a JSON object (after a byte order mark). */
function topLevelKeys(bytes: Uint8Array | string): string[] {
  try {
    const json = JSON.parse(
      Buffer.from(bytes)
        .toString('utf8')
        .replace(/^\ufeff/, ''),
    ) as unknown;
    return json !== null && typeof json === 'object' && !Array.isArray(json) ? Object.keys(json) : [];
  } catch {
    return [];
  }
}

/** Checks a refusal: INVALID_CONFIG, its message the file's name, then where in it (the field). */
function expectRefusal(e: BnlabError, file: string, keys: readonly string[]): void {
  expect(e.code).toBe('INVALID_CONFIG');
  expect(e.message.slice(0, file.length + 2)).toBe(`${file}: `);
  expect(e.message.slice(file.length + 2)).toMatch(location(keys));
}

/** The prototypes a polluting path would reach, as they were before any case ran. */
const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype];
const OWN_NAMES = PROTOTYPES.map((p) => Object.getOwnPropertyNames(p).sort().join());

function expectPrototypesUntouched(): void {
  expect(PROTOTYPES.map((p) => Object.getOwnPropertyNames(p).sort().join())).toEqual(OWN_NAMES);
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
}

/** Equality of JSON values (keys in any order), as two grid values or an exclusion match. */
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return a === b;
}

/**
 * A loaded experiment keeps the rules its labels and exclusions document (each names a grid
 * path; a path's labels are as many as its values), and has as many trials as the product of
 * the grid's sizes, less the excluded combinations, times the seeds.
 */
function expectLoaded({ experiment, count, trials }: Loaded): void {
  const paths = Object.keys(experiment.grid);
  for (const [p, labels] of Object.entries(experiment.labels ?? {})) {
    expect(paths).toContain(p);
    expect(labels).toHaveLength((experiment.grid[p] as unknown[]).length);
  }
  for (const entry of experiment.exclude) for (const p of Object.keys(entry)) expect(paths).toContain(p);
  const sizes = paths.map((p) => (experiment.grid[p] as unknown[]).length);
  let combos: unknown[][] = [[]];
  for (const p of paths) combos = combos.flatMap((c) => (experiment.grid[p] as unknown[]).map((v) => [...c, v]));
  const excluded = combos.filter((c) =>
    experiment.exclude.some((entry) => Object.entries(entry).every(([p, v]) => sameJson(c[paths.indexOf(p)], v))),
  ).length;
  const expected = (sizes.reduce((n, s) => n * s, 1) - excluded) * experiment.seeds.length;
  expect(expected).toBeGreaterThan(0);
  expect(trials).toHaveLength(expected);
  expect(count).toBe(expected);
  expect(new Set(trials.map((t) => t.id)).size).toBe(expected);
}

/**
 * Writes `bytes` as the experiment file and loads it as `bnlab run` does, within the budget:
 * a refusal must be typed and name the file and field, a load must have the right trials.
 */
async function loadsOrRefuses(bytes: Uint8Array | string): Promise<{ outcome: 'ok' | 'error'; error?: BnlabError }> {
  writeFileSync(FILE, bytes);
  const { cost, result } = await measured(() => loadForRun(FILE));
  expectPrototypesUntouched();
  expect(cost.ms).toBeLessThan(BUDGET.ms);
  expect(cost.heapGrowth).toBeLessThan(BUDGET.heapBytes);
  const outcome = await outcomes.of(() => {
    if (result.status === 'rejected') throw result.reason;
  });
  if (result.status === 'fulfilled') {
    expectLoaded(result.value);
    return { outcome };
  }
  expectRefusal(result.reason as BnlabError, FILE, topLevelKeys(bytes));
  return { outcome, error: result.reason as BnlabError };
}

// ---- mutations ----

/** Keys a mutation may add or rename to: prototype names, paths, and a few others. */
const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'length',
  '',
  'polluted',
  'name',
  'type',
  'grid',
  'seeds',
  'labels',
  'exclude',
  'norm',
  'options',
  'trainLimit',
  'model.norm',
  'model.norm.__proto__',
  'model.norm.__proto__.polluted',
  'model.options.constructor.prototype.polluted',
  'training.batchSize',
  'dataset.validationSplit',
  'model.placement.position',
  'toString.polluted',
  'dataset.toString',
];

/** Values that would pollute a prototype if a path or a copy assigned them naively. */
const POISON: Json[] = [
  JSON.parse('{"__proto__": {"polluted": true}}') as Json,
  JSON.parse('{"constructor": {"prototype": {"polluted": true}}}') as Json,
  JSON.parse('{"type": "batch", "__proto__": {"polluted": true}}') as Json,
  JSON.parse('[{"__proto__": {"polluted": 1}}]') as Json,
];

const keyArb = fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 }));
const valueArb: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: fc.constantFrom(...POISON) },
  { weight: 2, arbitrary: fc.constantFrom<Json>(0, -1, 1, 1e300, -0, 0.5, 0.95, 65537, '', 'x', 'batch', 'none', true, null, [], {}) },
);

const experimentMutationArb = mutationArb({
  keys: keyArb,
  values: valueArb,
  // Long lists: grids, seeds, labels or hidden units of up to 120,000 entries; past 40, only
  // lengths that alone pass the trial ceiling (50,000 seeds would make a valid experiment of
  // 100,000 trials, seconds to expand, that says nothing more).
  lengths: fc.oneof(fc.nat({ max: 40 }), fc.integer({ min: TRIAL_CEILING + 1, max: TRIAL_CEILING + 20_000 })),
  depths: fc.oneof(
    fc.integer({ min: 1, max: 8 }),
    fc.integer({ min: MAX_NESTING - 6, max: MAX_NESTING + 2 }),
    fc.constantFrom(5000, 100_000),
  ),
});

const exampleArb = fc.constantFrom(...EXAMPLES);
const mutatedExampleArb = fc
  .tuple(exampleArb, fc.array(experimentMutationArb, { minLength: 1, maxLength: 4 }), textChangeArb)
  .map(([example, mutations, change]) => change(mutatedText(example.json, mutations)));

// ---- grids ----

/** Grid paths of a trial's fields, each with values it takes (for SMALL's mlp on 256 MNIST digits). */
const GRID_FIELDS: Record<string, Json[]> = {
  'model.norm': [{ type: 'none' }, { type: 'batch' }, { type: 'layer' }, { type: 'group', groups: 2 }, { type: 'batch', momentum: 0.9 }],
  'model.placement.position': ['before-activation', 'after-activation'],
  'model.placement.layers': ['all', [1], [1, 2]],
  'model.options.hiddenUnits': [[8], [16, 8], [4]],
  'model.norm.type': ['none', 'batch', 'layer'],
  'training.batchSize': [1, 16, 32, 64],
  'training.epochs': [1, 2, 3],
  'training.optimizer': [
    { name: 'sgd', learningRate: 0.1 },
    { name: 'adam', learningRate: 0.001 },
  ],
  'training.optimizer.name': ['adam', 'sgd', 'rmsprop'],
  'training.optimizer.learningRate': [0.1, 0.01, 0.001],
  'training.shuffle': [true, false],
  'dataset.name': ['mnist', 'fashion-mnist', 'cifar10'],
  'dataset.validationSplit': [0, 0.1, 0.5],
  'dataset.trainLimit': [64, 128, 200],
  'dataset.testLimit': [10, 100],
  'dataset.scaling': ['unit', 'standardize'],
  'evaluation.batchNormStatistics': ['moving', 'precise'],
  'evaluation.preciseBatches': [1, 2, 5],
  'divergence.patience': [1, 10, 300],
  'record.featureMaps': [true, false],
};

/** Paths through prototype names, malformed paths, and paths that are no trial field. */
const ODD_PATHS = [
  '__proto__',
  '__proto__.polluted',
  'constructor',
  'constructor.prototype.polluted',
  'prototype',
  'model.__proto__.polluted',
  'model.norm.__proto__',
  'model.options.constructor.prototype.polluted',
  'model.prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'dataset.toString',
  'training.optimizer.hasOwnProperty',
  'model.options.toString',
  'model.norm.valueOf',
  'toString.polluted',
  '',
  '.',
  'model.',
  '.model',
  'model..norm',
  'polluted',
  'seeds',
  'grid',
  'name',
  'labels.x',
  'model.architecture',
  'model.norm.groups',
  'training.optimizer.momentum',
  'model.options.x',
];

/** A grid path and its values: a field with values it takes (some repeated), or any path with any values. */
const gridEntryArb: fc.Arbitrary<[string, Json[]]> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(...Object.entries(GRID_FIELDS)).chain(([path, values]) =>
      fc.tuple(
        fc.constant(path),
        fc.subarray(values, { minLength: 1 }).chain((vs) => fc.constantFrom<Json[]>(vs, vs, vs, vs, vs, [...vs, vs[0] as Json])),
      ),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.oneof(fc.constantFrom(...ODD_PATHS), keyArb),
      fc.array(fc.oneof(fc.constantFrom(...Object.values(GRID_FIELDS).flat(), ...POISON), valueArb), { maxLength: 4 }),
    ),
  },
);

/** An experiment around a random grid, with labels and exclusions that match it or not. */
const gridExperimentArb = fc
  .record({
    base: fc.oneof({ weight: 3, arbitrary: fc.constant(SMALL) }, { weight: 1, arbitrary: exampleArb.map((e) => e.json) }),
    grid: fc.array(gridEntryArb, { maxLength: 4 }),
    // A path of the grid (by index) or any key; as many labels as its values, or a random number.
    labels: fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constant(null), keyArb), fc.option(fc.nat({ max: 5 }), { nil: undefined })), {
      maxLength: 2,
    }),
    exclude: fc.oneof(
      fc.constant<[number, number, string | null][][]>([]),
      fc.array(
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: keyArb })), {
          minLength: 1,
          maxLength: 2,
        }),
        { maxLength: 2 },
      ),
    ),
    // Mostly valid seeds (distinct naturals); now and then repeated, negative, fractional, too large or none.
    seeds: fc.oneof(
      { weight: 4, arbitrary: fc.constant(undefined) },
      { weight: 4, arbitrary: fc.uniqueArray(fc.nat({ max: 9 }), { minLength: 1, maxLength: 3 }) },
      { weight: 1, arbitrary: fc.array(fc.oneof(fc.nat({ max: 5 }), fc.constantFrom(-1, 0.5, 2 ** 53)), { maxLength: 4 }) },
    ),
  })
  .map(({ base, grid, labels, exclude, seeds }) => {
    const json = copy(base) as { [key: string]: Json };
    delete json['labels'];
    delete json['exclude'];
    const g: { [key: string]: Json } = {};
    for (const [path, values] of grid) define(g, path, values);
    define(json, 'grid', g);
    const paths = Object.keys(g);
    const pathAt = (i: number, other: string | null): string => other ?? paths[i % Math.max(1, paths.length)] ?? 'model.norm';
    const valuesAt = (p: string): Json[] => (Object.hasOwn(g, p) && Array.isArray(g[p]) ? (g[p] as Json[]) : []);
    if (labels.length > 0) {
      const l: { [key: string]: Json } = {};
      for (const [i, other, n] of labels) {
        const p = pathAt(i, other);
        define(
          l,
          p,
          Array.from({ length: n ?? valuesAt(p).length }, (_, k) => `label${k}`),
        );
      }
      define(json, 'labels', l);
    }
    if (exclude.length > 0) {
      define(
        json,
        'exclude',
        exclude.map((entry) => {
          const e: { [key: string]: Json } = {};
          for (const [i, j, other] of entry) {
            const p = pathAt(i, other);
            const values = valuesAt(p);
            define(e, p, copy(values[j % Math.max(1, values.length)] ?? null));
          }
          return e;
        }),
      );
    }
    if (seeds !== undefined) define(json, 'seeds', seeds);
    return JSON.stringify(json);
  });

/** Grid paths every positive integer (or small fraction) is a valid value of, for large grids that load. */
const NUMERIC_PATHS: [string, (i: number) => number][] = [
  ['divergence.patience', (i) => i + 1],
  ['dataset.testLimit', (i) => i + 1],
  ['training.epochs', (i) => i + 1],
  ['training.batchSize', (i) => i + 1],
  ['training.optimizer.learningRate', (i) => (i + 1) / 1024],
];

/** Grids of up to 120,000 values a path, or many paths: refused at once beyond the ceiling, expanded (if small) below it. */
const largeGridArb = fc
  .record({
    paths: fc.array(
      fc.tuple(
        fc.nat({ max: NUMERIC_PATHS.length - 1 }),
        fc.oneof(
          { weight: 10, arbitrary: fc.integer({ min: 1, max: 6 }) },
          { weight: 8, arbitrary: fc.integer({ min: 1, max: 60 }) },
          { weight: 3, arbitrary: fc.integer({ min: 300, max: 3000 }) },
          // One path alone past the ceiling.
          { weight: 1, arbitrary: fc.integer({ min: TRIAL_CEILING + 1, max: TRIAL_CEILING + 20_000 }) },
        ),
      ),
      { minLength: 1, maxLength: 6 },
    ),
    seeds: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ paths, seeds }) => {
    const grid: { [key: string]: Json } = {};
    for (const [k, n] of paths) {
      const [path, value] = NUMERIC_PATHS[k] as [string, (i: number) => number];
      define(
        grid,
        path,
        Array.from({ length: n }, (_, i) => value(i)),
      );
    }
    const bound = Object.values(grid).reduce<number>((p, v) => p * (v as Json[]).length, seeds);
    return { text: JSON.stringify({ ...(SMALL as object), seeds: Array.from({ length: seeds }, (_, i) => i), grid }), bound };
  })
  // What loads stays small enough to expand quickly: a grid of 500 to 100,000 trials is valid,
  // only slower to expand, and says nothing more.
  .filter(({ bound }) => bound <= 500 || bound > TRIAL_CEILING);

describe('the experiment loader under random, corrupted and mutated files', () => {
  const valid = new Uint8Array(Buffer.from(EXAMPLES.find((e) => e.name === 'quick.json')?.text ?? ''));

  it(
    'any bytes, truncated or changed example files, with or without a byte order mark',
    async () => {
      const bom = (b: Uint8Array) => new Uint8Array([0xef, 0xbb, 0xbf, ...b]);
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(corruptedBytes(valid), corruptedBytes(valid).map(bom), fc.uint8Array({ maxLength: 64 }).map(bom)),
          async (bytes) => {
            await loadsOrRefuses(bytes);
          },
        ),
        fuzzParameters(200, [[valid], [bom(valid)]]),
      );
    },
    fuzzTimeLimit(30000),
  );

  it(
    'any JSON value, and objects of the experiment fields holding any JSON value',
    async () => {
      const fieldsArb = fc.record(Object.fromEntries(FIELDS.map((f) => [f, fc.jsonValue({ maxDepth: 3 })])), { requiredKeys: [] });
      const oneFieldArb = fc.tuple(exampleArb, fc.constantFrom(...FIELDS), fc.jsonValue({ maxDepth: 4 })).map(([e, f, v]) => {
        const json = copy(e.json) as { [key: string]: Json };
        define(json, f, v as Json);
        return json;
      });
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 5 }), fieldsArb, oneFieldArb), async (value) => {
          await loadsOrRefuses(JSON.stringify(value) ?? 'null');
        }),
        fuzzParameters(150, [[SMALL]]),
      );
    },
    fuzzTimeLimit(30000),
  );

  it(
    'example files with fields deleted, replaced, retyped, renamed, repeated, grown or deeply nested',
    async () => {
      await fc.assert(
        fc.asyncProperty(mutatedExampleArb, async (text) => {
          await loadsOrRefuses(text);
        }),
        fuzzParameters(
          150,
          EXAMPLES.map((e) => [e.text]),
        ),
      );
    },
    fuzzTimeLimit(40000),
  );

  it(
    'grids of any paths (__proto__, constructor, toString, malformed) and values, with labels, exclusions and seeds',
    async () => {
      await fc.assert(
        fc.asyncProperty(gridExperimentArb, async (text) => {
          await loadsOrRefuses(text);
        }),
        fuzzParameters(150, [[JSON.stringify({ ...(SMALL as object), grid: { 'model.norm': [{ type: 'none' }, { type: 'batch' }] } })]]),
      );
    },
    fuzzTimeLimit(40000),
  );

  it(
    'huge grids are refused before they are expanded; the others expand to the counted trials',
    async () => {
      await fc.assert(
        fc.asyncProperty(largeGridArb, async ({ text, bound }) => {
          const { outcome } = await loadsOrRefuses(text);
          if (bound > TRIAL_CEILING) expect(outcome).toBe('error');
        }),
        fuzzParameters(25, [[{ text: JSON.stringify({ ...(SMALL as object), grid: { 'training.epochs': [1, 2] } }), bound: 2 }]]),
      );
    },
    fuzzTimeLimit(60000),
  );

  it(
    'nesting past the limit, anywhere in an example, is refused naming the place; up to it is not',
    async () => {
      const nestedArb = fc.record({
        example: exampleArb,
        pick: fc.nat(),
        depth: fc.oneof(fc.integer({ min: 0, max: MAX_NESTING + 4 }), fc.constantFrom(1000, 100_000)),
        object: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(nestedArb, async ({ example, pick, depth, object }) => {
          const all = slots({ value: copy(example.json) });
          const s = all[pick % all.length] as Slot;
          // The slot's parent is at level s.depth (the top-level object is level 1), the wrappers
          // below it, then the levels of the value itself.
          const levels = s.depth + depth + jsonDepth(valueAt(s));
          const { error } = await loadsOrRefuses(mutatedText(example.json, [{ kind: 'nest', at: pick, depth, object }]));
          if (levels > MAX_NESTING) expect(error?.message).toMatch(new RegExp(`: values nest more than ${MAX_NESTING} levels deep here`));
          else expect(error?.message ?? '').not.toMatch(/values nest more than/);
        }),
        fuzzParameters(60, [[{ example: EXAMPLES[0] as (typeof EXAMPLES)[number], pick: 1, depth: 0, object: false }]]),
      );
    },
    fuzzTimeLimit(40000),
  );
});

describe('`bnlab run` on mutated files', () => {
  // A results folder that cannot be made (under a plain file): a file that loads stops there,
  // with exit code 4, before any data is read or any trial runs.
  const blocker = join(tmp, 'blocker');
  writeFileSync(blocker, '');

  it(
    'exits 2 naming the file and the field, or (for a file that loads) 4 at the results folder; never an internal error',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(mutatedExampleArb, gridExperimentArb), async (text) => {
          writeFileSync(FILE, text);
          let err = '';
          const code = await main(['run', FILE, '--yes', '--out', join(blocker, 'out'), '--backend', 'cpu', '--quiet'], {
            out: () => undefined,
            err: (s) => (err += s),
          });
          expectPrototypesUntouched();
          expect([2, 4]).toContain(code);
          outcomes[code === 2 ? 'error' : 'ok']++;
          if (code === 2) {
            expect(err.slice(0, FILE.length + 9)).toBe(`bnlab: ${FILE}: `);
            expect(err.slice(FILE.length + 9)).toMatch(location(topLevelKeys(text)));
          } else {
            expect(err).toMatch(/^bnlab: cannot write the results folder /);
          }
        }),
        fuzzParameters(60, [[EXAMPLES[0]?.text as string]]),
      );
    },
    fuzzTimeLimit(40000),
  );
});
