import { Resvg } from '@resvg/resvg-js';
import { PNG } from 'pngjs';
import { defaultFontFiles, fontMetricsFromFile, svgToPng } from '../../src/node/png';
import { renderVegaLite } from '../../src/plots/render';
import { requireSystem } from '../../../../test-support/system_requirements';

const fonts = defaultFontFiles();
const withFont = requireSystem({
  what: 'the DejaVu Sans font',
  present: /DejaVuSans\.ttf$/.test(fonts[0] ?? ''),
  install: 'apt-get install fonts-dejavu-core',
});

withFont.test('a chart font is found where Debian installs it (fonts-dejavu-core)', () => {
  expect(fonts[0]).toMatch(/DejaVuSans\.ttf$/);
});

withFont.test('font metrics from the TTF tables agree with resvg’s own text layout', () => {
  const metrics = fontMetricsFromFile(fonts[0]!)!;
  const inkWidth = (text: string): number => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="5000" height="200"><text x="10" y="150" font-family="DejaVu Sans" font-size="100">${text.replace(/&/g, '&amp;')}</text></svg>`;
    return new Resvg(svg, { font: { fontFiles: fonts, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' } }).getBBox()!.width;
  };
  // Between two bars the ink width grows by exactly the text's advance (side bearings cancel).
  const advance = (text: string): number => inkWidth(`|${text}|`) - inkWidth('||');
  for (const ch of 'aiWM 0T(±%—×') expect(metrics.width(ch, 100)).toBeCloseTo(advance(ch), 1);
  // Whole strings: resvg also kerns ('Tr', 'Va'), which only narrows them, so the measure
  // errs on the wide side (nothing is clipped) by a few percent at most.
  for (const text of ['Training step (batch)', 'Validation accuracy (mean ± 95% CI)', 'WMWMWM iiiiii 0123456789']) {
    const truth = advance(text);
    const ours = metrics.width(text, 100);
    expect(ours).toBeGreaterThanOrEqual(truth - 0.01);
    expect((ours - truth) / truth).toBeLessThan(0.04);
  }
});

test('svgToPng renders at the requested scale and refuses malformed SVG', async () => {
  const { svg, width, height } = await renderVegaLite({
    width: 100,
    height: 50,
    data: { values: [{ x: 1, y: 2 }] },
    mark: 'point',
    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
  });
  for (const scale of [1, 1.5, 3]) {
    const png = PNG.sync.read(Buffer.from(svgToPng(svg, { scale })));
    expect([png.width, png.height]).toEqual([Math.round(width * scale), Math.round(height * scale)]);
  }
  expect(() => svgToPng('<svg><g></svg>')).toThrow(/^the SVG could not be parsed/);
  expect(() => svgToPng(svg, { scale: 0 })).toThrow('scale must be a finite number > 0, got 0');
});
