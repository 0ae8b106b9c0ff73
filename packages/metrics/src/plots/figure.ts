/** A rendered plot: an SVG document with its size, ready to embed or convert to PNG. */
export interface Figure {
  /** A short identifier usable as a file name (`loss-per-batch`). */
  id: string;
  /** The figure's title, also used as alt text. */
  title: string;
  /** A standalone SVG document. */
  svg: string;
  /** Width in CSS pixels. */
  width: number;
  /** Height in CSS pixels. */
  height: number;
  /** A sentence saying what the figure shows (report caption). */
  caption?: string;
}

/** Makes a string safe as a file name and HTML id: lower case, `a-z0-9-`. */
export function slug(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s || 'figure';
}
