import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { BnlabError } from '@bnlab/core';
import { CHART_CONFIG } from './theme.js';

/** An SVG chart and its size in CSS pixels. */
export interface RenderedSvg {
  /** A standalone SVG document. */
  svg: string;
  /** Width in CSS pixels. */
  width: number;
  /** Height in CSS pixels. */
  height: number;
}

/**
 * Measures the width in pixels of one line of chart text, as Vega's `textMetrics.width`:
 * the text item (font size, weight) and the text.
 */
export type TextMeasure = (item: { fontSize?: number; fontWeight?: string | number }, text: unknown) => number;

/** Vega's text measurement hook (untyped in vega's declarations). */
const textMetrics = (vega as unknown as { textMetrics: { width: TextMeasure } }).textMetrics;

let measure: TextMeasure | null = null;
/** Renders in progress that installed {@link measure}, and Vega's own measure to put back after the last. */
let installed = 0;
let vegaMeasure: TextMeasure | null = null;

/**
 * Sets how chart text is measured while laying out charts. Without a canvas (Node), Vega
 * guesses 0.8 em per character, which leaves wide margins and lets a long vertical axis
 * title push the plot down; `@bnlab/metrics/node` installs a measure from the font the PNG
 * renderer draws with. In browsers Vega measures with a canvas and this is not needed.
 * `null` restores Vega's own measurement.
 */
export function setTextMeasure(m: TextMeasure | null): void {
  measure = m;
}

/**
 * Compiles a Vega-Lite spec and renders it headless to an SVG string (no browser, no
 * canvas). bnlab's chart config ({@link CHART_CONFIG}) is applied under the spec's own.
 */
export async function renderVegaLite(spec: TopLevelSpec): Promise<RenderedSvg> {
  const withConfig = { ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  let vgSpec: ReturnType<typeof compile>['spec'];
  try {
    vgSpec = compile(withConfig).spec;
  } catch (e) {
    throw new BnlabError('INVALID_CONFIG', `the chart spec does not compile: ${(e as Error).message}`, { where: 'spec', cause: e });
  }
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  // Vega's measure is one global: while any render is in progress (several can be, awaiting
  // each other), ours stays installed; the last one to finish puts Vega's back.
  const own = measure;
  if (own) {
    if (installed++ === 0) vegaMeasure = textMetrics.width;
    textMetrics.width = own;
  }
  try {
    const svg = await view.toSVG();
    const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
    return { svg, width: Number(m?.[1] ?? 0), height: Number(m?.[2] ?? 0) };
  } finally {
    if (own && --installed === 0) textMetrics.width = vegaMeasure as TextMeasure;
    view.finalize();
  }
}
