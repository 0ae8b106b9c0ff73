// The browser entry's module graph must not reach Node built-ins (node:*, fs, zlib, http, …),
// nor globals browsers lack (process, Buffer, require, __filename). Walks the static and dynamic
// imports of src/browser.ts (and of @bnlab/core's sources, which it imports) and checks every
// file reached; bare imports must be packages that run in browsers.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = join(__dirname, '..', 'src');
const CORE_SRC = join(__dirname, '..', '..', 'core', 'src');
const BROWSER_PACKAGES = new Set([
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-layers',
  'jpeg-js',
]);
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

interface Graph {
  files: string[];
  bare: Map<string, string[]>;
}

function specifiers(code: string): string[] {
  // import … from '…'; export … from '…'; import '…'; import('…'); skipping `import type`/`export type`.
  const out: string[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of code.matchAll(statement)) if (m[2] === undefined) out.push(m[4] as string);
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1] as string);
  for (const m of code.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1] as string);
  return out;
}

function walk(entry: string): Graph {
  const files: string[] = [];
  const bare = new Map<string, string[]>();
  const queue = [entry];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    files.push(file);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        if (!existsSync(target)) throw new Error(`${file}: cannot resolve ${spec}`);
        queue.push(target);
      } else if (spec === '@bnlab/core') {
        queue.push(join(CORE_SRC, 'index.ts'));
      } else {
        bare.set(spec, [...(bare.get(spec) ?? []), relative(SRC, file)]);
      }
    }
  }
  return { files, bare };
}

describe('browser entry', () => {
  const graph = walk(join(SRC, 'browser.ts'));

  it('reaches the shared readers and web loaders but no Node-only file of this package', () => {
    const ours = graph.files.filter((f) => f.startsWith(SRC)).map((f) => relative(SRC, f));
    expect(ours).toEqual(expect.arrayContaining(['formats/idx.ts', 'formats/tar.ts', 'dataset/image_dataset.ts', 'web/load_idx_web.ts']));
    expect(ours.filter((f) => f.startsWith('node/'))).toEqual([]);
  });

  it('imports no Node built-in, and only packages that run in browsers', () => {
    const imported = [...graph.bare.keys()];
    expect(imported.filter((s) => NODE_BUILTINS.has(s) || s.startsWith('node:'))).toEqual([]);
    expect(imported.filter((s) => !BROWSER_PACKAGES.has(s))).toEqual([]);
  });

  it('uses no Node-only global in this package (core guards its own with typeof)', () => {
    const offending = graph.files
      .filter((f) => f.startsWith(SRC))
      .filter((f) => {
        const code = readFileSync(f, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
        return /\b(process\.|Buffer\b|__filename|__dirname|require\()/.test(code);
      });
    expect(offending.map((f) => relative(SRC, f))).toEqual([]);
  });

  it('is what the package exports to bundlers under the "browser" condition', () => {
    const pkg = JSON.parse(readFileSync(join(SRC, '..', 'package.json'), 'utf8'));
    expect(pkg.exports['.'].browser.default).toBe('./dist/esm/browser.js');
    expect(Object.keys(pkg.exports['.'])[0]).toBe('browser'); // before "import"/"require"
    expect(pkg.browser['./dist/esm/index.js']).toBe('./dist/esm/browser.js');
  });

  it('would catch a Node import (the walk sees the Node entry’s)', () => {
    const node = walk(join(SRC, 'index.ts'));
    expect([...node.bare.keys()].filter((s) => s.startsWith('node:'))).toEqual(
      expect.arrayContaining(['node:fs', 'node:zlib', 'node:crypto']),
    );
  });
});
