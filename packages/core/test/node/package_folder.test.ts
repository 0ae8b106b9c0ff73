// packageFolder must resolve from the module that calls it, not from the current directory nor
// from @bnlab/core, in the ES module build (no __filename) and in the CommonJS build alike. The
// source is compiled both ways with TypeScript and run by Node from a fake install: a calling
// package whose own node_modules holds a package that nothing else can see (as pnpm lays out
// dependencies), with the current directory elsewhere.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { callerFile, packageFolder } from '../../src/node/package_folder.js';

let temp: string;
beforeAll(() => {
  temp = mkdtempSync(join(tmpdir(), 'bnlab-package-folder-'));
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('packageFolder', () => {
  it('finds a package installed for the calling module (jest runs the CommonJS form), undefined when missing', () => {
    expect(packageFolder('typescript')).toMatch(/node_modules[\\/]typescript$/);
    expect(packageFolder('no-such-package-bnlab')).toBeUndefined();
    expect(callerFile()).toBe(__filename);
  });

  it.each([
    ['esm', ts.ModuleKind.ESNext, 'mjs'],
    ['cjs', ts.ModuleKind.CommonJS, 'cjs'],
  ])('resolves from the calling module in the %s build', (_kind, module, ext) => {
    const source = readFileSync(join(__dirname, '..', '..', 'src', 'node', 'package_folder.ts'), 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module, target: ts.ScriptTarget.ES2020 } });
    const install = join(temp, `install-${ext}`);
    const core = join(install, 'node_modules', '@bnlab', 'core');
    mkdirSync(core, { recursive: true });
    writeFileSync(join(core, `package_folder.${ext}`), outputText);
    // The caller: a package with a private dependency that @bnlab/core cannot require.
    const caller = join(install, 'node_modules', 'caller');
    const hidden = join(caller, 'node_modules', 'hidden-data');
    mkdirSync(hidden, { recursive: true });
    writeFileSync(join(hidden, 'package.json'), '{"name":"hidden-data","version":"0.0.0"}');
    const coreFile = JSON.stringify(join(core, `package_folder.${ext}`));
    writeFileSync(
      join(caller, `index.${ext}`),
      ext === 'mjs'
        ? `import { packageFolder } from ${coreFile};\nexport const found = () => packageFolder('hidden-data');\n`
        : `const { packageFolder } = require(${coreFile});\nexports.found = () => packageFolder('hidden-data');\n`,
    );
    const elsewhere = join(temp, `cwd-${ext}`);
    mkdirSync(elsewhere, { recursive: true });
    const callerFileName = JSON.stringify(join(caller, `index.${ext}`));
    // `node -e` defines a global __filename ('[eval]') that must not fool the ES module build.
    const script =
      ext === 'mjs' ? `import(${callerFileName}).then((m) => console.log(m.found()))` : `console.log(require(${callerFileName}).found())`;
    const run = spawnSync(process.execPath, ['-e', script], { cwd: elsewhere, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(hidden);
  });
});
