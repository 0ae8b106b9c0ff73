// Packs every public package and checks the tarball as a registry user would get it:
// publint (package.json fields, exports, files) and arethetypeswrong (its types resolve under
// node10, node16 from CJS and from ESM, and bundler resolution, for every entry point).
// Either reporting a problem fails the script, naming the package. Run after a build:
//   node scripts/lint-packages.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const out = mkdtempSync(join(tmpdir(), 'bnlab-packages-'));
const failed = [];
try {
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const pkgDir = join(root, 'packages', dir);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    if (pkg.private) continue;
    const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: pkgDir, encoding: 'utf8' });
    const tarball = join(out, packed.trim().split('\n').pop());
    for (const [tool, args] of [
      ['publint', ['run', tarball, '--strict']],
      ['attw', [tarball, '--format', 'ascii']],
    ]) {
      try {
        execFileSync(bin(tool), args, { cwd: pkgDir, stdio: 'pipe', encoding: 'utf8' });
        console.log(`${pkg.name}: ${tool} clean`);
      } catch (e) {
        failed.push(`${pkg.name} (${tool})`);
        console.error(`${pkg.name}: ${tool} found problems:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      }
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
if (failed.length) {
  console.error(`package lint failed: ${failed.join(', ')}`);
  process.exit(1);
}
