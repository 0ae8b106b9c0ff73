// Threads in the browser (issue 6): trains and runs inference on the benchmark CNN (with and
// without batch norm) with bnlab in headless Chromium, in a plain page (tfjs's single-threaded
// SIMD build) and in a cross-origin-isolated page (COOP/COEP headers: tfjs's threaded build)
// with 1 and with 2 threads, round by round in turn, and prints images/s, the ratios to the
// plain page (medians over the rounds) and the backend each page got.
//
//   node browser.mjs [--rounds 3] [--steps 30] [--test-images 4000] [--json out.json]
//
// tfjs's threaded build gives XNNPACK at most half of navigator.hardwareConcurrency threads
// (it assumes two hardware threads per core): on a 2-core machine, 1. The 2-thread pages are
// told there are 4 logical cores so that the pool really has 2 threads.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    steps: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    'test-images': { type: 'string', default: '4000' },
    models: { type: 'string', default: 'cnn-bn,cnn' },
    chromium: { type: 'string', default: process.env.BNLAB_CHROMIUM ?? '/usr/bin/chromium' },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(
    'Usage: node browser.mjs [--rounds N] [--steps N] [--warmup N] [--test-images N] [--models cnn-bn,cnn] [--chromium PATH] [--json FILE]',
  );
  process.exit(0);
}
const ROUNDS = Number(opts.rounds);
const MODELS = opts.models.split(',');
for (const m of MODELS) {
  if (!['cnn-bn', 'cnn'].includes(m)) {
    console.error(`browser.mjs: unknown model '${m}' (cnn-bn, cnn)`);
    process.exit(2);
  }
}
if (!existsSync(opts.chromium)) {
  console.error(`browser.mjs: no Chromium at ${opts.chromium} (apt-get install -y chromium, or --chromium PATH)`);
  process.exit(2);
}

const here = dirname(fileURLToPath(import.meta.url));
const WASM_DIR = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
const bundle = (
  await build({
    entryPoints: [join(here, 'browser-page.mjs')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
  })
).outputFiles[0].text;

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const isolated = url.searchParams.has('isolated') || (req.headers.referer ?? '').includes('isolated');
  const headers = isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
  let body = null;
  if (url.pathname === '/') {
    body =
      '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>bnlab benchmark</title><script src="/page.js"></script>';
    headers['content-type'] = 'text/html';
  } else if (url.pathname === '/page.js') {
    body = bundle;
    headers['content-type'] = 'text/javascript';
  } else if (/^\/wasm\/[\w.-]+\.wasm$/.test(url.pathname) && existsSync(join(WASM_DIR, url.pathname.slice(6)))) {
    body = readFileSync(join(WASM_DIR, url.pathname.slice(6)));
    headers['content-type'] = 'application/wasm';
  }
  res.writeHead(body === null ? 404 : 200, headers);
  res.end(body ?? undefined);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: opts.chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});

const CONFIGS = [
  { name: 'plain page', isolated: false },
  { name: 'isolated, 1 thread', isolated: true, threads: 1 },
  { name: 'isolated, 2 threads', isolated: true, threads: 2 },
];

async function measure(config, model) {
  const page = await browser.newPage();
  try {
    if (config.threads > 1)
      await page.addInitScript(`Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => ${2 * config.threads} })`);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base + (config.isolated ? '?isolated' : ''), { waitUntil: 'load' });
    const r = await page.evaluate((a) => globalThis.bnlabBench(a), {
      threads: config.threads,
      model,
      steps: Number(opts.steps),
      warmup: Number(opts.warmup),
      testImages: Number(opts['test-images']),
    });
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    if (r.crossOriginIsolated !== config.isolated) throw new Error(`${config.name}: crossOriginIsolated is ${r.crossOriginIsolated}`);
    return r;
  } finally {
    await page.close();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = {}; // model → config → [runs]
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const model of MODELS) {
      // Rotate the order of the pages round by round, so drift in the machine's speed favours none.
      const order = CONFIGS.map((_, i) => CONFIGS[(i + round) % CONFIGS.length]);
      for (const config of order) {
        const r = await measure(config, model);
        ((results[model] ??= {})[config.name] ??= []).push(r);
        console.error(
          `round ${round + 1}, ${model}, ${config.name}: train ${r.trainImgPerS.toFixed(0)} images/s, inference ${r.inferImgPerS.toFixed(0)} (threads ${r.info.threads}, kernels ${r.info.simdKernels})`,
        );
      }
    }
  }
} finally {
  await browser.close();
  server.close();
}

const rows = [];
for (const model of MODELS) {
  const plain = results[model]['plain page'];
  for (const config of CONFIGS) {
    const runs = results[model][config.name];
    // Ratios to the plain page of the same round, then the median over the rounds.
    const ratio = (key) => median(runs.map((r, i) => r[key] / plain[i][key]));
    rows.push({
      model,
      page: config.name,
      threads: runs[0].info.threads,
      'bnlab kernels': runs[0].info.simdKernels,
      'train images/s': Math.round(median(runs.map((r) => r.trainImgPerS))),
      'train ÷ plain': +ratio('trainImgPerS').toFixed(2),
      'inference images/s': Math.round(median(runs.map((r) => r.inferImgPerS))),
      'inference ÷ plain': +ratio('inferImgPerS').toFixed(2),
    });
  }
}
const browserVersion = browser.version();
console.log(`bnlab in headless Chromium ${browserVersion}, batch 64 (Adam), inference in batches of 1000; medians of ${ROUNDS} rounds`);
console.table(rows);
if (opts.json)
  writeFileSync(
    opts.json,
    JSON.stringify({ date: new Date().toISOString(), chromium: browserVersion, rounds: ROUNDS, rows, results }, null, 2) + '\n',
  );
