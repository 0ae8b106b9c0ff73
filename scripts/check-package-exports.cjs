// Checks that a built package works from both `require` and `import`, with type declarations
// for both. Usage: node scripts/check-package-exports.cjs @bnlab/core [expectedExport ...]
// Exits non-zero with a message naming what is missing.
const { existsSync } = require('node:fs');
const { dirname, join } = require('node:path');

async function main() {
  const [name, ...expected] = process.argv.slice(2);
  if (!name) throw new Error('usage: check-package-exports.cjs <package> [export ...]');
  const pkgDir = dirname(require.resolve(`${name}/package.json`));
  const pkg = require(`${name}/package.json`);
  const entry = pkg.exports['.'];
  for (const kind of ['import', 'require']) {
    for (const field of ['types', 'default']) {
      const file = join(pkgDir, entry[kind][field]);
      if (!existsSync(file)) throw new Error(`${name}: exports["."].${kind}.${field} points to missing ${file}`);
    }
  }
  const cjs = require(name);
  const esm = await import(name);
  for (const key of expected) {
    if (cjs[key] === undefined) throw new Error(`${name}: require() lacks export '${key}'`);
    if (esm[key] === undefined) throw new Error(`${name}: import() lacks export '${key}'`);
  }
  const cjsKeys = Object.keys(cjs)
    .filter((k) => k !== 'default' && k !== '__esModule')
    .sort();
  const esmKeys = Object.keys(esm)
    .filter((k) => k !== 'default' && k !== 'module.exports')
    .sort();
  if (JSON.stringify(cjsKeys) !== JSON.stringify(esmKeys)) {
    throw new Error(`${name}: require() and import() export different names:\n  cjs ${cjsKeys}\n  esm ${esmKeys}`);
  }
  process.stdout.write(`${name}: ${esmKeys.length} exports via import and require\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
