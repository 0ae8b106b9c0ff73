// What the property-based fuzz suites share (datasets' parsers, the CLI's experiment loader,
// the models' file loader): the run count, quick by default and set by BNLAB_FUZZ_RUNS=<n> for
// a longer search; time limits that follow it; the count of each outcome; inputs made from a
// valid file; and a measure of a case's time and heap growth.
import fc from 'fast-check';

/** `BNLAB_FUZZ_RUNS`, the number of runs of every property in the long mode (undefined: the quick default). */
export const FUZZ_RUNS: number | undefined = ((n) => (Number.isInteger(n) && n > 0 ? n : undefined))(
  Number(process.env['BNLAB_FUZZ_RUNS']),
);

/**
 * The seed of every property: `BNLAB_FUZZ_SEED` (an integer, or `random` for a new one each run,
 * which fast-check prints on failure), 20261207 otherwise, so that `npm test` and CI draw the
 * same cases on every run and a red run means a change broke something.
 */
export const FUZZ_SEED: number | undefined = ((v) => {
  if (v === 'random') return undefined;
  if (v === undefined || v === '') return 20261207;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`BNLAB_FUZZ_SEED: expected an integer or "random", got ${JSON.stringify(v)}`);
  return n;
})(process.env['BNLAB_FUZZ_SEED']);

/**
 * fast-check parameters: `numRuns` random inputs (`BNLAB_FUZZ_RUNS` in the long mode) after the
 * given examples, so that every run reaches the examples' outcome whatever the seed draws; the
 * seed is FUZZ_SEED.
 */
export function fuzzParameters<T extends unknown[] | []>(
  numRuns: number,
  examples: T[] = [],
): { numRuns: number; examples: T[]; seed?: number } {
  return { numRuns: FUZZ_RUNS ?? numRuns, examples, ...(FUZZ_SEED === undefined ? {} : { seed: FUZZ_SEED }) };
}

/** A test's time limit: `ms` by default, a day in the long mode (whose length BNLAB_FUZZ_RUNS sets). */
export function fuzzTimeLimit(ms: number): number {
  return FUZZ_RUNS === undefined ? ms : 24 * 3600 * 1000;
}

/**
 * Counts how the cases of a property ended: a valid result, or an error `expected` accepts
 * (any other exception is rethrown, failing the property).
 */
export class FuzzOutcomes {
  ok = 0;
  error = 0;

  constructor(private readonly expected: (e: unknown) => boolean) {}

  /** Runs `parse`: 'ok' when it returns, 'error' when it throws an expected error. */
  async of(parse: () => unknown): Promise<'ok' | 'error'> {
    try {
      await parse();
      this.ok++;
      return 'ok';
    } catch (e) {
      if (!this.expected(e)) throw e;
      this.error++;
      return 'error';
    }
  }

  reset(): void {
    this.ok = 0;
    this.error = 0;
  }
}

/** Random bytes, truncations of `valid`, and copies of `valid` with a few bytes changed. */
export function corruptedBytes(valid: Uint8Array, maxRandomLength = 2048): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: maxRandomLength }),
    fc.nat({ max: valid.length }).map((n) => valid.slice(0, n)),
    fc
      .array(fc.tuple(fc.nat({ max: Math.max(0, valid.length - 1) }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      })
      .map((changes) => {
        const copy = valid.slice();
        for (const [at, value] of changes) copy[at] = value;
        return copy;
      }),
  );
}

/** What one case cost: its wall time and how much the V8 heap grew (garbage included). */
export interface CaseCost {
  ms: number;
  heapGrowth: number;
}

/** Runs `task`, returning its result (or its error, rethrown after measuring) with its cost. */
export async function measured<T>(task: () => Promise<T>): Promise<{ cost: CaseCost; result: PromiseSettledResult<T> }> {
  const heap = process.memoryUsage().heapUsed;
  const start = performance.now();
  let result: PromiseSettledResult<T>;
  try {
    result = { status: 'fulfilled', value: await task() };
  } catch (reason) {
    result = { status: 'rejected', reason };
  }
  return { cost: { ms: performance.now() - start, heapGrowth: process.memoryUsage().heapUsed - heap }, result };
}
