import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Every bare module a source file pulls in, following relative imports. */
function reachableModules(entry: string): Set<string> {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'|import\('([^']+)'\)/gm)) {
      const spec = (m[1] ?? m[2]) as string;
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else bare.add(spec);
    }
  };
  walk(entry);
  return bare;
}

test('the browser entry reaches no Node module, the main entry adds the Node-only ones', () => {
  const browser = reachableModules(join(__dirname, '../src/browser.ts'));
  expect([...browser].sort()).toEqual([
    '@bnlab/core',
    '@bnlab/layers',
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-layers',
    'vega',
    'vega-lite',
  ]);
  const main = reachableModules(join(__dirname, '../src/index.ts'));
  expect([...main].sort()).toEqual(
    [
      '@bnlab/core',
      '@bnlab/layers',
      '@resvg/resvg-js',
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-layers',
      'node:fs',
      'node:fs/promises',
      'node:path',
      'pngjs',
      'vega',
      'vega-lite',
    ].sort(),
  );
});

test('the main entry exports everything the browser entry does', async () => {
  const main = await import('../src/index');
  const browser = await import('../src/browser');
  for (const k of Object.keys(browser)) expect((main as Record<string, unknown>)[k]).toBe((browser as Record<string, unknown>)[k]);
  for (const k of ['writeReport', 'svgToPng', 'writeFileAtomic', 'featureMapFigure', 'writeRecordsJson']) expect(k in main).toBe(true);
  for (const k of ['writeReport', 'svgToPng', 'writeFileAtomic']) expect(k in browser).toBe(false);
});
