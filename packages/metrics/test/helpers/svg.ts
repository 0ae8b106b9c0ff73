import { Resvg } from '@resvg/resvg-js';

/**
 * Parses an SVG with resvg's strict XML parser (roxmltree), which rejects malformed XML:
 * throws when the document is not well-formed.
 */
export function assertWellFormedSvg(svg: string): { width: number; height: number } {
  expect(svg.startsWith('<svg')).toBe(true);
  const r = new Resvg(svg, { font: { loadSystemFonts: false } });
  return { width: r.width, height: r.height };
}

/** The text content of every <text> element (entities decoded). */
export function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([\s\S]*?)<\/text>/g)].map((m) =>
    (m[1] as string)
      .replace(/<[^>]+>/g, '')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;|&apos;/g, "'")
      .replace(/&amp;/g, '&'),
  );
}

/**
 * The number of drawn items (<path>, <line>, <rect>) inside Vega mark groups of the given
 * class (e.g. 'mark-line'), optionally only those of one Vega-Lite layer ('layer_0_marks').
 */
export function countMarks(svg: string, markClass: string, layer?: string): number {
  let n = 0;
  const re = new RegExp(`<g class="${markClass} role-mark ([^"]*)"[^>]*>([\\s\\S]*?)</g>`, 'g');
  for (const m of svg.matchAll(re)) {
    if (layer !== undefined && m[1] !== layer) continue;
    n += ((m[2] as string).match(/<(path|line|rect)\b/g) ?? []).length;
  }
  return n;
}
