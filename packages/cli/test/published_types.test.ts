/**
 * bnlab's published declaration files (dist/*.d.ts of every package, as a user's project
 * resolves them) compile under each TypeScript module resolution mode with `skipLibCheck`
 * off (issue 20: deep imports of tfjs-layers' `dist/` files broke node16/nodenext, and the
 * subpath entries did not resolve for node10). The consumer in fixtures/type-consumer also
 * pins what the layer option types accept and refuse (`@ts-expect-error` lines fail the
 * compile when the error they expect goes away). Runs against dist/ (`npm test` builds first).
 *
 * tfjs 4.22's own declarations do not pass a strict library check (its `hash_util.d.ts` needs
 * `@types/long`; `LayersModel` and its Keras-format configs break `strictNullChecks`): those
 * errors, inside node_modules, are tfjs's and are left out; every other error fails the test.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const DIR = join(__dirname, 'fixtures/type-consumer');
const TSC = require.resolve('typescript/bin/tsc');

/** The errors of compiling the consumer in `mode`, but those in third-party packages' files. */
function ownErrors(mode: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [TSC, '-p', join(DIR, `tsconfig.${mode}.json`)], { cwd: DIR, maxBuffer: 64 << 20 }, (error, stdout) => {
      // tsc exits 2 on errors (tfjs's own among them); only a failure to run it is a problem here.
      if (error && typeof error.code !== 'number') return reject(error);
      resolve(stdout.split('\n').filter((line) => /error TS\d+/.test(line) && !line.includes('node_modules/')));
    });
  });
}

const MODES = ['nodenext', 'bundler', 'node10'] as const;
// The three compiles run at once (each is a separate program over the same declarations).
const results = MODES.map((mode) => [mode, ownErrors(mode)] as const);
results.forEach(([, p]) => p.catch(() => undefined));

it.each(results)(
  'the published types compile under moduleResolution %s without skipLibCheck',
  async (_mode, errors) => {
    expect(await errors).toEqual([]);
  },
  180_000,
);
