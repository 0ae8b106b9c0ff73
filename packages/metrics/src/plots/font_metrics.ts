/**
 * Advance widths of a TrueType font, read from its `head`, `hhea`, `hmtx` and `cmap`
 * (format 4) tables: enough to measure a line of text the way the PNG renderer will draw
 * it (kerning aside), so that charts laid out without a browser get their margins right.
 */
export class FontMetrics {
  private readonly cache = new Map<number, number>();

  private constructor(
    private readonly view: DataView,
    private readonly unitsPerEm: number,
    private readonly advances: Uint16Array,
    private readonly cmapOffset: number,
  ) {}

  /** Parses TrueType bytes; undefined when a needed table is missing. */
  static fromBytes(bytes: Uint8Array): FontMetrics | undefined {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tables = new Map<string, number>();
    const n = v.getUint16(4);
    for (let i = 0; i < n; i++) {
      const rec = 12 + 16 * i;
      const tag = String.fromCharCode(v.getUint8(rec), v.getUint8(rec + 1), v.getUint8(rec + 2), v.getUint8(rec + 3));
      tables.set(tag, v.getUint32(rec + 8));
    }
    const head = tables.get('head');
    const hhea = tables.get('hhea');
    const hmtx = tables.get('hmtx');
    const cmap = tables.get('cmap');
    if (head === undefined || hhea === undefined || hmtx === undefined || cmap === undefined) return undefined;
    const unitsPerEm = v.getUint16(head + 18);
    const count = v.getUint16(hhea + 34);
    const advances = new Uint16Array(count);
    for (let i = 0; i < count; i++) advances[i] = v.getUint16(hmtx + 4 * i);
    // The Unicode BMP subtable: (3, 1) Windows, or (0, x) Unicode, in format 4.
    let sub = -1;
    const subtables = v.getUint16(cmap + 2);
    for (let i = 0; i < subtables; i++) {
      const rec = cmap + 4 + 8 * i;
      const platform = v.getUint16(rec);
      const encoding = v.getUint16(rec + 2);
      const off = cmap + v.getUint32(rec + 4);
      if (v.getUint16(off) === 4 && ((platform === 3 && encoding === 1) || platform === 0)) {
        sub = off;
        if (platform === 3) break;
      }
    }
    if (sub < 0 || unitsPerEm === 0 || count === 0) return undefined;
    return new FontMetrics(v, unitsPerEm, advances, sub);
  }

  private glyph(code: number): number {
    if (code > 0xffff) return 0;
    const v = this.view;
    const t = this.cmapOffset;
    const segs = v.getUint16(t + 6) / 2;
    const ends = t + 14;
    const starts = ends + 2 * segs + 2;
    const deltas = starts + 2 * segs;
    const ranges = deltas + 2 * segs;
    for (let i = 0; i < segs; i++) {
      if (v.getUint16(ends + 2 * i) < code) continue;
      const start = v.getUint16(starts + 2 * i);
      if (start > code) return 0;
      const delta = v.getInt16(deltas + 2 * i);
      const ro = v.getUint16(ranges + 2 * i);
      if (ro === 0) return (code + delta) & 0xffff;
      const g = v.getUint16(ranges + 2 * i + ro + 2 * (code - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  }

  /** Advance of one character in em units (1 = the font size). */
  advance(code: number): number {
    let a = this.cache.get(code);
    if (a === undefined) {
      const g = this.glyph(code);
      const adv = this.advances[Math.min(g, this.advances.length - 1)] as number;
      a = adv / this.unitsPerEm;
      this.cache.set(code, a);
    }
    return a;
  }

  /** Width in pixels of `text` at `fontSize` pixels. */
  width(text: string, fontSize: number): number {
    let w = 0;
    for (const ch of text) w += this.advance(ch.codePointAt(0) as number);
    return w * fontSize;
  }
}
