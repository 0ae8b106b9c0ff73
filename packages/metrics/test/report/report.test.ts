import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { chromium } from 'playwright-core';
import type { TrainingRecord } from '@bnlab/core';
import { buildReport } from '../../src/report/report';
import { writeReport } from '../../src/node/write_report';
import { extractFeatureMaps } from '../../src/plots/feature_maps';
import { featureMapFigure } from '../../src/node/feature_map_figure';
import { histogramChart } from '../../src/plots/histogram_chart';
import { sweepChart, sweepFromRecords } from '../../src/plots/sweep_chart';
import { blockActivations } from '../../src/recorder/probes';
import { readRecordsJson } from '../../src/node/json_file';
import { extraKeys } from '../../src/record/record';
import type { Figure } from '../../src/plots/figure';
import { initTestBackend } from '../helpers/backend';
import { CHROMIUM_PATH, requireChromium } from '../../../../test-support/system_requirements';
import { runTinyExperiment } from '../helpers/experiment';

let runs: TrainingRecord[];
let extraFigures: Figure[];
let dir: string;

beforeAll(async () => {
  await initTestBackend('wasm');
  const exp = await runTinyExperiment([0, 1, 2]);
  runs = exp.runs;
  const image = tf.slice(exp.test.xs, 0, 1);
  const rows = [];
  const acts = [];
  for (const [label, v] of [
    ['With batch norm', 'BN'],
    ['Without normalization', 'none'],
  ] as const) {
    const [maps] = await extractFeatureMaps(exp.models[v], image);
    rows.push({ label, maps: maps! });
    const [pre] = await blockActivations(exp.models[v], exp.test.xs, { kind: 'preActivation', limit: 1 });
    acts.push({ label, values: pre!.values });
  }
  extraFigures = [
    await featureMapFigure(rows, { title: 'Feature maps of conv1 for one test image', caption: 'Block outputs in inference mode.' }),
    await histogramChart(acts, { title: 'Pre-activations of conv1 on the test set' }),
    await sweepChart(sweepFromRecords(runs, { x: (r) => r.config.variant as string }), {
      xTitle: 'Variant',
      yTitle: 'Test accuracy',
      percent: true,
    }),
  ];
  dir = await mkdtemp(join(tmpdir(), 'bnlab-metrics-report-'));
}, 60000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the tiny experiment recorded what the report needs', () => {
  expect(runs).toHaveLength(6);
  for (const r of runs) {
    expect(r.status).toBe('completed');
    expect(r.epochs).toHaveLength(3);
    const e = r.epochs[2]!;
    expect(e.valAccuracy).toBeDefined();
    expect(e.testAccuracy).toBeDefined();
    expect(e.extra?.[extraKeys.probeAccuracyInferenceMode]).toBeDefined();
    expect(e.extra?.[extraKeys.activationStd('conv1')]).toBeGreaterThan(0);
    expect(e.extra?.[extraKeys.gradNorm('conv1')]).toBeGreaterThan(0);
  }
});

test('Markdown tables show labels with HTML and pipes as written', async () => {
  const { markdown } = await buildReport({
    title: 'Labels',
    runs,
    groupBy: (r) => (r.runId.startsWith('BN') ? '<b>BN</b> | lr=0.1 & more' : 'none'),
  });
  expect(markdown).toContain('| &lt;b&gt;BN&lt;/b&gt; \\| lr=0.1 &amp; more |');
  expect(markdown).not.toContain('<b>BN</b>');
});

test('buildReport: configuration, results with CI, plots, environment — HTML self-contained', async () => {
  const { report, html, markdown } = await buildReport({
    title: 'Tiny CNN with and without batch norm',
    description: 'Two seeds per variant.\n\nSynthetic bars, 3 classes.',
    runs,
    figures: extraFigures,
  });
  expect(report.results.rows.map((r) => r.group)).toEqual(['BN', 'none']);
  expect(report.figures.map((f) => f.id)).toEqual([
    'training-loss-per-batch',
    'validation-accuracy-per-epoch-mean-95-ci-over-seeds',
    'test-accuracy-per-epoch-mean-95-ci-over-seeds',
    'training-loss-per-epoch-mean-95-ci-over-seeds',
    'training-vs-inference-mode',
    'feature-maps-of-conv1-for-one-test-image',
    'pre-activations-of-conv1-on-the-test-set',
    'test-accuracy-vs-variant',
  ]);
  // Self-contained: no script, no external URL outside the base64 payloads.
  expect(html).not.toMatch(/<script/i);
  const refs = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
  expect(refs.length).toBeGreaterThan(0);
  expect(refs.filter((u) => !u.startsWith('data:') && !u.startsWith('#'))).toEqual([]);
  expect(html).not.toMatch(/https?:\/\//);
  expect((html.match(/<img src="data:image\/svg\+xml;base64,/g) ?? []).length).toBe(8);
  for (const heading of ['Results', 'Plots', 'Configuration', 'Runs', 'Environment']) expect(html).toContain(`<h2>${heading}</h2>`);
  expect(html).toContain('<p>Synthetic bars, 3 classes.</p>');
  // The results cells and environment appear in both forms.
  const cell = (s: string) => s.replace(/&#39;/g, "'");
  const bnAcc = report.results.rows[0]!.cells[0]!;
  const formatted = `${(100 * bnAcc.mean).toFixed(2)} ± ${(100 * bnAcc.halfWidth).toFixed(2)} %`;
  expect(cell(html)).toContain(formatted);
  expect(markdown).toContain(formatted);
  for (const k of ['backend', 'SIMD', 'threads', '@tensorflow/tfjs-core', 'duration']) {
    expect(report.environment.map(([key]) => key)).toContain(k);
  }
  expect(report.config).toEqual(
    expect.arrayContaining([
      ['optimizer.name', 'adam'],
      ['batchSize', '16'],
      ['variant', 'varies: BN, none'],
      ['seed', 'varies: 0, 1, 2'],
    ]),
  );
  expect(markdown).toMatch(/^# Tiny CNN with and without batch norm/);
  expect(markdown).toContain('| Variant | Runs | Diverged | Left out | Final test accuracy |');
  expect(markdown).toContain('![Feature maps of conv1 for one test image](figures/feature-maps-of-conv1-for-one-test-image.png)');
});

test('writeReport writes HTML, Markdown, figures and data, and the data reads back', async () => {
  const written = await writeReport(dir, { title: 'Tiny CNN', runs, figures: extraFigures });
  const files = (await readdir(dir)).sort();
  expect(files).toEqual(['batches.csv', 'epochs.csv', 'figures', 'records.json', 'report.html', 'report.md']);
  const figs = await readdir(join(dir, 'figures'));
  expect(figs).toHaveLength(16);
  for (const f of figs.filter((n) => n.endsWith('.png'))) {
    const png = PNG.sync.read(await readFile(join(dir, 'figures', f)));
    expect(png.width).toBeGreaterThan(300);
  }
  expect(await readRecordsJson(join(dir, 'records.json'))).toEqual(runs);
  const md = await readFile(written.markdown, 'utf8');
  for (const m of md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) expect(existsSync(join(dir, m[1]!))).toBe(true);
  if (process.env.BNLAB_PLOTS_DIR) {
    await mkdir(join(process.env.BNLAB_PLOTS_DIR, 'report'), { recursive: true });
    for (const f of figs) await copyFile(join(dir, 'figures', f), join(process.env.BNLAB_PLOTS_DIR, 'report', f));
    await copyFile(written.html, join(process.env.BNLAB_PLOTS_DIR, 'report', 'report.html'));
  }
});

const CHROMIUM = CHROMIUM_PATH;

requireChromium().test('the HTML report opens in headless Chromium with no console error and shows every plot', async () => {
  const written = await writeReport(join(dir, 'browser'), { title: 'Tiny CNN', runs, figures: extraFigures }, { data: false, png: false });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    const requested: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      requested.push(url);
      return url.startsWith('file:') || url.startsWith('data:') ? route.continue() : route.abort();
    });
    await page.goto(pathToFileURL(written.html).href, { waitUntil: 'load' });
    const images = await page.evaluate(async () => {
      const imgs = Array.from(document.images);
      await Promise.all(imgs.map((i) => i.decode().catch(() => undefined)));
      return imgs.map((i) => {
        const box = i.getBoundingClientRect();
        return {
          alt: i.alt,
          complete: i.complete,
          naturalWidth: i.naturalWidth,
          naturalHeight: i.naturalHeight,
          width: box.width,
          height: box.height,
        };
      });
    });
    const inlineSvgs = await page.evaluate(() =>
      Array.from(document.querySelectorAll('svg')).map((s) => s.getBoundingClientRect().width * s.getBoundingClientRect().height),
    );
    const title = await page.title();
    const shot = join(process.env.BNLAB_PLOTS_DIR ?? dir, 'report-screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });

    expect(problems).toEqual([]);
    expect(requested.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    expect(title).toBe('Tiny CNN');
    expect(images).toHaveLength(8);
    for (const img of images) {
      expect(img).toMatchObject({ complete: true });
      expect(img.naturalWidth).toBeGreaterThan(0);
      expect(img.naturalHeight).toBeGreaterThan(0);
      expect(img.width).toBeGreaterThan(100);
      expect(img.height).toBeGreaterThan(100);
    }
    for (const area of inlineSvgs) expect(area).toBeGreaterThan(0);
    const png = PNG.sync.read(await readFile(shot));
    expect(png.width).toBe(1200);
    expect(png.height).toBeGreaterThan(3000);
  } finally {
    await browser.close();
  }
});
