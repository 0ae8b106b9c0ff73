/**
 * What `npm pack` puts in each public package's tarball (issue 20): the built entry points,
 * LICENSE and README, the sources the source maps and declaration maps point at (and the
 * sources inline in the .js maps), no build caches, and `engines`. Runs against dist/ (`npm
 * test` builds first); `npm pack --dry-run` lists the files without writing a tarball.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const ROOT = join(__dirname, '../../..');
const PACKAGES = ['core', 'layers', 'datasets', 'models', 'metrics', 'cli'];
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function packedFiles(pkg: string): string[] {
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: join(ROOT, pkg),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [entry] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return (entry as { files: Array<{ path: string }> }).files.map((f) => f.path);
}

describe.each(PACKAGES)('@bnlab/%s tarball', (name) => {
  const pkg = `packages/${name}`;
  const files = packedFiles(pkg);
  const manifest = JSON.parse(readFileSync(join(ROOT, pkg, 'package.json'), 'utf8')) as {
    engines?: { node?: string };
    exports: Record<string, unknown>;
  };

  it('ships LICENSE, README and the entry points, and no build caches', () => {
    expect(files).toEqual(
      expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/esm/index.js', 'dist/cjs/index.js', 'dist/esm/index.d.ts']),
    );
    expect(files.filter((f) => f.endsWith('.tsbuildinfo'))).toEqual([]);
    expect(manifest.engines?.node).toBe('>=20');
  });

  it('has source maps whose sources are shipped, and inline in the .js maps', () => {
    const maps = files.filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const shipped = new Set(files);
    const missing: string[] = [];
    const notInline: string[] = [];
    for (const map of maps) {
      const m = JSON.parse(readFileSync(join(ROOT, pkg, map), 'utf8')) as { sources: string[]; sourcesContent?: string[] };
      for (const s of m.sources) if (!shipped.has(normalize(join(dirname(map), s)))) missing.push(`${map} → ${s}`);
      if (map.endsWith('.js.map') && m.sourcesContent?.length !== m.sources.length) notInline.push(map);
    }
    expect(missing).toEqual([]);
    expect(notInline).toEqual([]);
  });

  it('every path its exports name is in the tarball', () => {
    const paths: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') paths.push(v.replace(/^\.\//, ''));
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(manifest.exports);
    expect(paths.filter((p) => !files.includes(p))).toEqual([]);
  });
});
