import { existsSync, readFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import { BnlabError } from '@bnlab/core';
import { FontMetrics } from '../plots/font_metrics.js';
import { setTextMeasure, type TextMeasure } from '../plots/render.js';

/** Font files tried, in order, for PNG text: Debian's `fonts-dejavu-core` first. */
export const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf',
  '/usr/local/share/fonts/DejaVuSans.ttf',
  '/Library/Fonts/Arial.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

let defaultFonts: string[] | undefined;

/**
 * The font files {@link svgToPng} uses by default: the first of {@link FONT_CANDIDATES}
 * that exists (and its bold face for DejaVu); empty when none was found.
 */
export function defaultFontFiles(): string[] {
  if (!defaultFonts) {
    const found = FONT_CANDIDATES.find((f) => existsSync(f));
    defaultFonts = found ? [found] : [];
    if (found?.endsWith('DejaVuSans.ttf')) {
      const bold = found.replace('DejaVuSans.ttf', 'DejaVuSans-Bold.ttf');
      if (existsSync(bold)) defaultFonts.push(bold);
    }
  }
  return defaultFonts;
}

/** Reads a `.ttf` file's metrics; undefined when it cannot be read or has no usable tables. */
export function fontMetricsFromFile(path: string): FontMetrics | undefined {
  try {
    const buf = readFileSync(path);
    return FontMetrics.fromBytes(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  } catch {
    return undefined;
  }
}

let fontMeasure: TextMeasure | null | undefined;

/** A chart text measure from the default font files (null when none is installed). */
export function fontFileMeasure(): TextMeasure | null {
  if (fontMeasure !== undefined) return fontMeasure;
  const files = defaultFontFiles();
  const regular = files[0] ? fontMetricsFromFile(files[0]) : undefined;
  const bold = files[1] ? fontMetricsFromFile(files[1]) : regular;
  if (!regular || !bold) return (fontMeasure = null);
  fontMeasure = (item, text) => {
    const s = text == null ? '' : String(text).trim();
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const w = item.fontWeight;
    const isBold = w === 'bold' || Number(w) >= 600;
    // A pixel of slack per label keeps rounding in the renderer from touching neighbours.
    return Math.ceil((isBold ? bold : regular).width(s, size)) + 1;
  };
  return fontMeasure;
}

// Charts laid out in Node measure their text with the font the PNGs are drawn with; the
// fonts are read on first use.
setTextMeasure((item, text) => {
  const m = fontFileMeasure();
  return m ? m(item, text) : Math.trunc(0.8 * (item.fontSize ?? 11) * (text == null ? 0 : String(text).trim().length));
});

/** Options of {@link svgToPng}. */
export interface SvgToPngOptions {
  /** Pixels per CSS pixel. @default 2 */
  scale?: number;
  /** Font files to render text with. @default {@link defaultFontFiles} */
  fontFiles?: string[];
  /** Also use the system's fonts (slower: resvg scans them). @default only when no font file was found */
  loadSystemFonts?: boolean;
}

/**
 * Renders an SVG document to PNG bytes with resvg (no browser). Text uses DejaVu Sans when
 * installed (Debian: `apt-get install fonts-dejavu-core`), else the system's fonts.
 */
export function svgToPng(svg: string, options: SvgToPngOptions = {}): Uint8Array {
  const scale = options.scale ?? 2;
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new BnlabError('INVALID_ARGUMENT', `scale must be a finite number > 0, got ${scale}`, { where: 'scale' });
  }
  const fontFiles = options.fontFiles ?? defaultFontFiles();
  const loadSystemFonts = options.loadSystemFonts ?? fontFiles.length === 0;
  let resvg: Resvg;
  try {
    resvg = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: scale },
      background: 'white',
      font: { fontFiles, loadSystemFonts, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    });
  } catch (e) {
    throw new BnlabError('DATA_FORMAT', `the SVG could not be parsed: ${(e as Error).message}`, { where: 'svg', cause: e });
  }
  return new Uint8Array(resvg.render().asPng());
}
