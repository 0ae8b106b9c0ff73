// bnlab's backend in a real browser (headless Chromium): the page is bundled with esbuild, as
// an application would be, and served from 127.0.0.1 twice: plainly (tfjs picks its
// single-threaded SIMD build) and cross-origin isolated (COOP/COEP headers: tfjs picks its
// threaded build, whose memory is a SharedArrayBuffer). In both, bnlab's SIMD kernels must
// bind to the backend and compute what tfjs's cpu backend computes in Node.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { compute } from './case.js';
import { relError } from '../support/backends.js';
import { CHROMIUM_PATH, requireChromium } from '../../../../test-support/system_requirements.js';

const CHROMIUM = CHROMIUM_PATH;
const chromiumTests = requireChromium();
const WASM_DIR = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));

interface PageResult {
  info: {
    backend: string;
    simd: boolean;
    simdKernels: string | null;
    winograd: boolean;
    threads: number;
    kernelThreads: number;
    kernels: number;
  };
  outputs: Record<string, number[]>;
  isolated: boolean;
}

let bundle = '';
let server: Server;
let base = '';
let browser: Browser;

/** Serves the page, its bundle and tfjs's .wasm files; `?isolated` pages get COOP/COEP. */
function serve(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const isolated = url.searchParams.has('isolated') || (req.headers.referer ?? '').includes('isolated');
  const headers: Record<string, string> = isolated
    ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }
    : {};
  let body: string | Buffer | null = null;
  if (url.pathname === '/') {
    body = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>bnlab</title><script src="/page.js"></script>';
    headers['content-type'] = 'text/html';
  } else if (url.pathname === '/page.js') {
    body = bundle;
    headers['content-type'] = 'text/javascript';
  } else if (/^\/wasm\/[\w.-]+\.wasm$/.test(url.pathname)) {
    const file = join(WASM_DIR, url.pathname.slice('/wasm/'.length));
    if (existsSync(file)) body = readFileSync(file);
    headers['content-type'] = 'application/wasm';
  }
  if (body === null) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, headers);
  res.end(body);
}

/**
 * tfjs's threaded build gives XNNPACK at most half of `navigator.hardwareConcurrency` threads
 * (it assumes two hardware threads per core), so a 2-core machine gets 1. Pages that ask for
 * more threads are told there are 4 logical cores, so that the pool really starts 2 threads.
 */
async function runPage(isolated: boolean, threads: number): Promise<PageResult> {
  const page = await browser.newPage();
  if (threads > 1) await page.addInitScript(`Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => ${2 * threads} })`);
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  try {
    await page.goto(base + (isolated ? '?isolated' : ''), { waitUntil: 'load' });
    const result = await page.evaluate(
      async (t) => ({
        ...(await (globalThis as unknown as { bnlabRun: (t: number) => Promise<Omit<PageResult, 'isolated'>> }).bnlabRun(t)),
        isolated: globalThis.crossOriginIsolated,
      }),
      threads,
    );
    expect(problems).toEqual([]);
    return result;
  } finally {
    await page.close();
  }
}

let reference: Record<string, number[]>;

chromiumTests.describe('bnlab in headless Chromium', () => {
  beforeAll(async () => {
    const out = await build({
      entryPoints: [join(__dirname, 'page.ts')],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    });
    bundle = out.outputFiles[0]?.text ?? '';
    server = createServer(serve);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    reference = compute();
  });

  it.each([
    ['a plain page: the single-threaded SIMD build', false, 1],
    ['a cross-origin-isolated page: the threaded build, shared memory', true, 2],
  ])('%s runs bnlab’s kernels and matches the cpu backend', async (_name, isolated, threads) => {
    const { info, outputs, isolated: wasIsolated } = await runPage(isolated, threads);
    expect(wasIsolated).toBe(isolated);
    expect(info.backend).toBe('wasm');
    expect(info.simd).toBe(true);
    // Chromium has relaxed SIMD; the kernels bound to the backend's memory (null otherwise).
    expect(info.simdKernels).toBe('relaxed');
    expect(info.winograd).toBe(true);
    expect(info.kernels).toBeGreaterThan(0);
    expect(info.threads).toBe(threads);
    // bnlab's kernels on as many threads: Web Workers on the shared heap of the isolated page.
    expect(info.kernelThreads).toBe(threads);
    for (const name of ['y', 'dx', 'dw', 'dgamma']) {
      expect(outputs[name]?.length).toBe(reference[name]?.length);
      expect(relError(outputs[name] as number[], reference[name] as number[])).toBeLessThan(1e-4);
    }
  });
});
