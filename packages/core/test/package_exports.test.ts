import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// Runs against the built package (`npm test` builds first): the published entry points
// must load from both `require` and `import`, with declarations.
it('the built package loads from require and import with types', () => {
  const script = join(__dirname, '../../../scripts/check-package-exports.cjs');
  const out = execFileSync(process.execPath, [script, '@bnlab/core', 'initBackend', 'BnlabError', 'Rng', 'registerWasmTrainingKernels'], {
    encoding: 'utf8',
  });
  expect(out).toMatch(/@bnlab\/core: \d+ exports via import and require/);
});
