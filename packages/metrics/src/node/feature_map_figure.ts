import { PNG } from 'pngjs';
import type { TopLevelSpec } from 'vega-lite';
import { BnlabError } from '@bnlab/core';
import { slug, type Figure } from '../plots/figure.js';
import { renderVegaLite } from '../plots/render.js';
import type { FeatureMaps } from '../plots/feature_maps.js';

// Viridis (matplotlib), 9 stops: perceptually uniform and readable in grey.
const VIRIDIS: ReadonlyArray<readonly [number, number, number]> = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** A colour map: a value in [0, 1] → RGB bytes. */
export type Colormap = 'viridis' | 'gray';

function colour(t: number, map: Colormap): [number, number, number] {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  if (map === 'gray') {
    const g = Math.round(255 * u);
    return [g, g, g];
  }
  const x = u * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i] as readonly number[];
  const b = VIRIDIS[i + 1] as readonly number[];
  return [0, 1, 2].map((k) => Math.round((a[k] as number) + f * ((b[k] as number) - (a[k] as number)))) as [number, number, number];
}

/**
 * One channel of a feature map as a PNG, scaled up by an integer `zoom` with square pixels,
 * values mapped linearly from `[lo, hi]` to the colour map.
 */
export function featureMapPng(
  maps: FeatureMaps,
  channel: number,
  options: { zoom?: number; lo: number; hi: number; colormap?: Colormap },
): Uint8Array {
  const zoom = options.zoom ?? 1;
  const { height: h, width: w, channels: c } = maps;
  const png = new PNG({ width: w * zoom, height: h * zoom });
  const span = options.hi - options.lo || 1;
  for (let y = 0; y < h * zoom; y++) {
    for (let x = 0; x < w * zoom; x++) {
      const v = maps.data[(Math.floor(y / zoom) * w + Math.floor(x / zoom)) * c + channel] as number;
      const [r, g, b] = colour((v - options.lo) / span, options.colormap ?? 'viridis');
      const o = (y * w * zoom + x) * 4;
      png.data[o] = r;
      png.data[o + 1] = g;
      png.data[o + 2] = b;
      png.data[o + 3] = 255;
    }
  }
  return new Uint8Array(PNG.sync.write(png));
}

/** One row of a feature-map figure: the maps of one model (e.g. with or without normalization). */
export interface FeatureMapRow {
  /** The row's title, e.g. 'With batch norm'. */
  label: string;
  /** The maps to show. */
  maps: FeatureMaps;
}

/** Options of {@link featureMapFigure}. */
export interface FeatureMapFigureOptions {
  /** @default 'Feature maps' */
  title?: string;
  /** @default derived from the title */
  id?: string;
  /** A sentence for the report under the figure. */
  caption?: string;
  /** Number of channels shown per row (the first ones). @default 16 */
  channels?: number;
  /** Maps per line within a row. @default 8 */
  columns?: number;
  /** Side of one map in pixels. @default 64 */
  cell?: number;
  /**
   * Colour scale: each map to its own min–max (shapes), or one range per row (magnitudes
   * compare across a row's channels). @default 'per-map'
   */
  normalize?: 'per-map' | 'per-row';
  /** @default 'viridis' */
  colormap?: Colormap;
}

function range(maps: FeatureMaps, channel: number | null): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = channel ?? 0; i < maps.data.length; i += channel === null ? 1 : maps.channels) {
    const v = maps.data[i] as number;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo === Infinity ? [0, 1] : [lo, hi];
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : v.toFixed(2);
}

/**
 * A grid of feature maps — one titled row per model, e.g. the first conv block with and
 * without batch normalization for the same input — with each map's value range under it.
 */
export async function featureMapFigure(rows: readonly FeatureMapRow[], options: FeatureMapFigureOptions = {}): Promise<Figure> {
  if (rows.length === 0) throw new BnlabError('INVALID_ARGUMENT', 'featureMapFigure needs at least one row, got none', { where: 'rows' });
  const cell = options.cell ?? 64;
  const columns = options.columns ?? 8;
  const title = options.title ?? 'Feature maps';
  const concat = rows.map((row) => {
    const { maps } = row;
    const n = Math.min(options.channels ?? 16, maps.channels);
    const zoom = Math.max(1, Math.ceil(cell / Math.max(maps.height, maps.width)));
    const rowRange = range(maps, null);
    const values = Array.from({ length: n }, (_, c) => {
      const [lo, hi] = options.normalize === 'per-row' ? rowRange : range(maps, c);
      const png = featureMapPng(maps, c, { zoom, lo, hi, colormap: options.colormap ?? 'viridis' });
      return { key: `#${c} [${fmt(lo)}, ${fmt(hi)}]`, url: `data:image/png;base64,${Buffer.from(png).toString('base64')}` };
    });
    const size = (cell * maps.width) / Math.max(maps.height, maps.width);
    const sizeH = (cell * maps.height) / Math.max(maps.height, maps.width);
    return {
      title: { text: `${row.label} — ${maps.layer} (${maps.height}×${maps.width}×${maps.channels})`, fontSize: 13, anchor: 'start' },
      data: { values },
      facet: {
        field: 'key',
        type: 'nominal',
        sort: values.map((v) => v.key),
        title: null,
        header: { labelOrient: 'bottom', labelFontSize: 10, labelPadding: 2 },
      },
      columns,
      spacing: { column: 6, row: 4 },
      spec: {
        width: size,
        height: sizeH,
        view: { stroke: null },
        mark: { type: 'image', width: size, height: sizeH, aria: false },
        encoding: { x: { value: size / 2 }, y: { value: sizeH / 2 }, url: { field: 'url', type: 'nominal' } },
      },
    };
  });
  const spec = { title, vconcat: concat, spacing: 22 } as unknown as TopLevelSpec;
  const { svg, width, height } = await renderVegaLite(spec);
  const f: Figure = { id: options.id ?? slug(title), title, svg, width, height };
  if (options.caption !== undefined) f.caption = options.caption;
  return f;
}
