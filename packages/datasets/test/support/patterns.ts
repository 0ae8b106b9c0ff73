// Pixel formulas of the ImageMagick fixtures in test/fixtures/images (see make_fixtures.sh).
export const PATTERN_WIDTH = 5;
export const PATTERN_HEIGHT = 4;

export function patternRgb(x: number, y: number): [number, number, number] {
  return [(50 * x + 7 * y) % 256, (60 * y + 3 * x) % 256, (13 * x * y + 5) % 256];
}

export function patternGray(x: number, y: number): number {
  return (40 * x + 30 * y) % 256;
}

export function patternGray2(x: number, y: number): number {
  return 85 * ((x + 2 * y) % 4);
}

/** The whole pattern as HWC bytes. */
export function patternImage(channels: 1 | 3, pixel: (x: number, y: number) => number | number[]): Uint8Array {
  const out = new Uint8Array(PATTERN_WIDTH * PATTERN_HEIGHT * channels);
  for (let y = 0; y < PATTERN_HEIGHT; y++) {
    for (let x = 0; x < PATTERN_WIDTH; x++) {
      const v = pixel(x, y);
      const values = Array.isArray(v) ? v : [v];
      values.forEach((s, c) => (out[(y * PATTERN_WIDTH + x) * channels + c] = s));
    }
  }
  return out;
}
