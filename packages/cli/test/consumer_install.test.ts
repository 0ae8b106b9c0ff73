/**
 * The packages as a user gets them (issue 20): every public package packed with `npm pack`,
 * unpacked into the node_modules of a fresh project outside the monorepo, and used from a
 * CommonJS and an ES-module script (test/fixtures/consumer-app), and bundled for the browser
 * with esbuild and run in headless Chromium. The third-party dependencies are linked from the
 * monorepo's node_modules, so nothing is downloaded; that each package declares what its
 * built files import is checked separately below.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { builtinModules } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH, requireChromium } from '../../../test-support/system_requirements.js';

const ROOT = join(__dirname, '../../..');
const PACKAGES = ['core', 'layers', 'datasets', 'models', 'metrics', 'cli'];
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const FIXTURE = join(__dirname, 'fixtures/consumer-app');

let app: string;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'bnlab-consumer-app-'));
  const tarballs = join(app, 'tarballs');
  mkdirSync(tarballs);
  const modules = join(app, 'node_modules');
  for (const name of PACKAGES) {
    const out = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs], {
      cwd: join(ROOT, 'packages', name),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [{ filename }] = JSON.parse(out) as Array<{ filename: string }>;
    const into = join(modules, '@bnlab', name);
    mkdirSync(into, { recursive: true });
    execFileSync('tar', ['-xzf', join(tarballs, filename), '-C', into, '--strip-components=1']);
  }
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry === '@bnlab' || entry.startsWith('.')) continue;
    symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry));
  }
  for (const f of readdirSync(FIXTURE)) copyFileSync(join(FIXTURE, f), join(app, f));
}, 120_000);

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

interface ConsumerResult {
  backend: string;
  results: Array<{ type: string; losses: number[]; maxDiff: number }>;
  isBnlabError: boolean;
  entries: string[];
}

function runScript(script: string): ConsumerResult {
  const out = execFileSync(process.execPath, [script], { cwd: app, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
  return JSON.parse(out.trim().split('\n').pop() as string) as ConsumerResult;
}

describe.each(['use_bnlab.cjs', 'use_bnlab.mjs'])('installed tarballs, used from %s', (script) => {
  it('trains every normalization built from JSON on wasm and saves and reloads it with the same predictions', () => {
    const r = runScript(script);
    expect(r.backend).toBe('wasm');
    expect(r.results.map((x) => x.type)).toEqual(['batch', 'layer', 'group', 'instance', 'none']);
    for (const x of r.results) {
      expect(x.losses.every(Number.isFinite)).toBe(true);
      expect(x.maxDiff).toBeLessThan(1e-6);
    }
    expect(r.isBnlabError).toBe(true);
    // Every other entry point loads too.
    expect(r.entries).toEqual([
      '@bnlab/core/node',
      '@bnlab/datasets',
      '@bnlab/datasets/browser',
      '@bnlab/metrics',
      '@bnlab/metrics/browser',
      '@bnlab/cli',
    ]);
  }, 60_000);
});

/**
 * The browser consumer (fixtures/consumer-app/use_bnlab_browser.mjs), bundled from the installed
 * tarballs as an application's bundler would, served from 127.0.0.1 with tfjs's .wasm files
 * (copied by @bnlab/core/node's copyWasmFiles), run in headless Chromium.
 */
requireChromium().describe('installed tarballs, bundled for the browser (esbuild) and run in Chromium', () => {
  let server: Server;
  let bundle = '';
  let wasmDir = '';

  beforeAll(async () => {
    const out = await build({
      entryPoints: [join(app, 'use_bnlab_browser.mjs')],
      absWorkingDir: app,
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    });
    bundle = out.outputFiles[0]?.text ?? '';
    wasmDir = join(app, 'wasm');
    // As a web app's build script does (`bnlab wasm-files` is the same call; the CLI itself is
    // not run here, because this app links the monorepo's hoisted dependencies, whose commander
    // is not the CLI's).
    const copy = "require('@bnlab/core/node').copyWasmFiles(process.argv[1]).catch((e) => { console.error(e); process.exit(1); })";
    execFileSync(process.execPath, ['-e', copy, wasmDir], { cwd: app, stdio: 'pipe', env: { ...process.env, NODE_PATH: '' } });
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      const wasm = /^\/wasm\/[\w.-]+\.wasm$/.test(path) ? join(wasmDir, path.slice('/wasm/'.length)) : null;
      if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script src="/app.js"></script>');
      } else if (path === '/app.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(bundle);
      } else if (wasm && existsSync(wasm)) {
        res.writeHead(200, { 'content-type': 'application/wasm' });
        res.end(readFileSync(wasm));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }, 120_000);

  afterAll(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('trains every normalization built from JSON on wasm, saves and reloads it with the same predictions', async () => {
    expect(bundle.length).toBeGreaterThan(100_000);
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { waitUntil: 'load' });
      const r = (await page.evaluate(async () => (globalThis as unknown as { bnlabRun: () => Promise<unknown> }).bnlabRun())) as {
        backend: string;
        simdKernels: string | null;
        results: Array<{ type: string; losses: number[]; maxDiff: number }>;
        isBnlabError: boolean;
        entries: Record<string, string>;
      };
      expect(problems).toEqual([]);
      expect(r.backend).toBe('wasm');
      expect(r.simdKernels).not.toBeNull();
      expect(r.results.map((x) => x.type)).toEqual(['batch', 'layer', 'group', 'instance', 'none']);
      for (const x of r.results) {
        expect(x.losses.every(Number.isFinite)).toBe(true);
        expect(x.maxDiff).toBeLessThan(1e-6);
      }
      expect(r.isBnlabError).toBe(true);
      expect(r.entries).toEqual({ datasets: 'function', metrics: 'function' });
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describe('each package declares what its built files import', () => {
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  /** Bare specifiers imported or required anywhere in a package's dist/ (code and declarations), as package names. */
  function importedPackages(dir: string): Set<string> {
    const names = new Set<string>();
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(c|m)?js$|\.d\.ts$/.test(e.name)) {
          const text = readFileSync(p, 'utf8');
          // import … from 'x', export … from 'x', import 'x', import('x'), require('x').
          for (const m of text.matchAll(/(?:from\s*|import\s*\(?\s*|require\(\s*)['"]([^'"./][^'"]*)['"]/g)) {
            const spec = m[1] as string;
            // A package name, maybe with a subpath (the pattern also meets string literals in code).
            if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/[\w.-]+)*$/i.test(spec)) continue;
            if (builtins.has(spec) || builtins.has(spec.split('/')[0] as string)) continue;
            const parts = spec.split('/');
            names.add(spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string));
          }
        }
      }
    };
    walk(dir);
    return names;
  }

  it.each(PACKAGES)('@bnlab/%s', (name) => {
    const dir = join(ROOT, 'packages', name);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const declared = new Set([
      ...Object.keys(manifest['dependencies'] ?? {}),
      ...Object.keys(manifest['peerDependencies'] ?? {}),
      `@bnlab/${name}`,
    ]);
    const undeclared = [...importedPackages(join(dir, 'dist'))].filter((p) => !declared.has(p));
    expect(undeclared).toEqual([]);
  });
});
