import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PNG } from 'pngjs';
import { extractFeatureMaps } from '../../src/plots/feature_maps';
import { featureMapFigure, featureMapPng } from '../../src/node/feature_map_figure';
import { blockActivations } from '../../src/recorder/probes';
import { histogramChart } from '../../src/plots/histogram_chart';
import { svgToPng } from '../../src/node/png';
import { initTestBackend } from '../helpers/backend';
import { assertWellFormedSvg, svgTexts } from '../helpers/svg';

const H = 10;
const EPS = 1e-3;
// Four 3×3 kernels: identity, negated identity, horizontal gradient, box blur.
const KERNELS = [
  [0, 0, 0, 0, 1, 0, 0, 0, 0],
  [0, 0, 0, 0, -1, 0, 0, 0, 0],
  [-1, 0, 1, -1, 0, 1, -1, 0, 1],
  [1, 1, 1, 1, 1, 1, 1, 1, 1].map((v) => v / 9),
];
/** A bright diagonal stroke on a dim ramp. */
const image = (y: number, x: number): number => (Math.abs(x - y) <= 1 ? 1 : 0) + 0.05 * x;

function kernelTensor(): tf.Tensor4D {
  // [kh, kw, in, out]
  const k = new Float32Array(3 * 3 * 1 * 4);
  KERNELS.forEach((kern, o) => kern.forEach((v, i) => (k[i * 4 + o] = v)));
  return tf.tensor4d(k, [3, 3, 1, 4]);
}

function model(withBn: boolean): tfl.LayersModel {
  const layers = withBn
    ? [
        tfl.layers.conv2d({ filters: 4, kernelSize: 3, useBias: false, inputShape: [H, H, 1], name: 'conv1' }),
        tfl.layers.batchNormalization({ name: 'bn1', epsilon: EPS }),
        tfl.layers.activation({ activation: 'relu', name: 'relu1' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 2, activation: 'softmax' }),
      ]
    : [
        tfl.layers.conv2d({ filters: 4, kernelSize: 3, useBias: false, activation: 'relu', inputShape: [H, H, 1], name: 'conv1' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 2, activation: 'softmax' }),
      ];
  const m = tfl.sequential({ layers });
  m.getLayer('conv1').setWeights([kernelTensor()]);
  return m;
}

/** The valid 3×3 convolution of the image with kernel `k`, by hand. */
function conv(k: number[]): number[][] {
  const out: number[][] = [];
  for (let y = 0; y < H - 2; y++) {
    const row: number[] = [];
    for (let x = 0; x < H - 2; x++) {
      let s = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += k[i * 3 + j]! * image(y + i, x + j);
      row.push(s);
    }
    out.push(row);
  }
  return out;
}

const input = (): tf.Tensor3D => tf.tensor3d(Array.from({ length: H }, (_, y) => Array.from({ length: H }, (_, x) => [image(y, x)])));

beforeAll(initTestBackend);

test('feature maps of the first conv block equal a hand-computed convolution, ReLU and inference-mode BN', async () => {
  for (const withBn of [false, true]) {
    const [maps] = await extractFeatureMaps(model(withBn), input());
    expect(maps!.layer).toBe('conv1');
    expect([maps!.height, maps!.width, maps!.channels]).toEqual([8, 8, 4]);
    KERNELS.forEach((k, c) => {
      const ref = conv(k);
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          // Fresh BN in inference mode: moving mean 0, variance 1.
          const want = Math.max(0, ref[y]![x]! / (withBn ? Math.sqrt(1 + EPS) : 1));
          expect(maps!.data[(y * 8 + x) * 4 + c]).toBeCloseTo(want, 5);
        }
      }
    });
  }
  await expect(extractFeatureMaps(model(false), tf.zeros([2, H, H, 1]))).rejects.toThrow(
    'image must have shape [H, W, C] or [1, H, W, C], got [2, 10, 10, 1]',
  );
});

test('a feature-map PNG maps the value range onto viridis with square pixels', () => {
  const maps = { layer: 'l', height: 2, width: 3, channels: 1, data: new Float32Array([0, 1, 2, 3, 4, 5]) };
  const png = PNG.sync.read(Buffer.from(featureMapPng(maps, 0, { zoom: 4, lo: 0, hi: 5 })));
  expect([png.width, png.height]).toEqual([12, 8]);
  const px = (x: number, y: number): number[] => Array.from(png.data.subarray((y * 12 + x) * 4, (y * 12 + x) * 4 + 4));
  expect(px(0, 0)).toEqual([68, 1, 84, 255]); // minimum: viridis start
  expect(px(11, 7)).toEqual([253, 231, 37, 255]); // maximum: viridis end
  expect(px(3, 3)).toEqual(px(0, 0)); // one source pixel covers 4×4
});

test('the with/without-normalization figure: a titled row per model, every map embedded', async () => {
  const rows = [];
  for (const [label, withBn] of [
    ['Without normalization', false],
    ['With batch norm', true],
  ] as const) {
    const [maps] = await extractFeatureMaps(model(withBn), input());
    rows.push({ label, maps: maps! });
  }
  const f = await featureMapFigure(rows, { title: 'First conv block, one input', columns: 4 });
  const size = assertWellFormedSvg(f.svg);
  expect(size).toEqual({ width: f.width, height: f.height });
  const texts = svgTexts(f.svg);
  expect(texts).toEqual(
    expect.arrayContaining(['First conv block, one input', 'Without normalization — conv1 (8×8×4)', 'With batch norm — conv1 (8×8×4)']),
  );
  expect(texts.filter((t) => t.startsWith('#'))).toHaveLength(8);
  const images = [...f.svg.matchAll(/href="data:image\/png;base64,([^"]+)"/g)];
  expect(images).toHaveLength(8);
  const first = PNG.sync.read(Buffer.from(images[0]![1]!, 'base64'));
  expect([first.width, first.height]).toEqual([64, 64]);
  const png = PNG.sync.read(Buffer.from(svgToPng(f.svg, { scale: 1 })));
  expect([png.width, png.height]).toEqual([Math.round(f.width), Math.round(f.height)]);
  if (process.env.BNLAB_PLOTS_DIR) {
    mkdirSync(process.env.BNLAB_PLOTS_DIR, { recursive: true });
    writeFileSync(join(process.env.BNLAB_PLOTS_DIR, `${f.id}.png`), svgToPng(f.svg));
  }
});

test('block activations feed activation histograms', async () => {
  const xs = tf.expandDims(input(), 0);
  const [pre] = await blockActivations(model(true), xs, { kind: 'preActivation', limit: 1 });
  expect(pre!.block).toBe('conv1');
  expect(pre!.shape).toEqual([1, 8, 8, 4]);
  expect(pre!.values[3]).toBeCloseTo(conv(KERNELS[3]!)[0]![0]! / Math.sqrt(1 + EPS), 5);
  const f = await histogramChart([{ label: 'conv1 pre-activation', values: pre!.values }], { bins: 20 });
  expect(svgTexts(f.svg)).toContain('conv1 pre-activation');
});
