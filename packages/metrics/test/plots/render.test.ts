// Chart text measurement is a global of Vega's: renders in progress at the same time must
// all lay out with bnlab's measure, and Vega's own comes back when the last one ends.
import { renderVegaLite, setTextMeasure } from '../../src/plots/render';
import type { TopLevelSpec } from 'vega-lite';

const chart = (title: string): TopLevelSpec => ({
  width: 120,
  height: 60,
  data: {
    values: [
      { x: 1, y: 2 },
      { x: 2, y: 3 },
    ],
  },
  mark: 'line',
  encoding: {
    x: { field: 'x', type: 'quantitative', title },
    y: { field: 'y', type: 'quantitative', title: `${title} (y)` },
  },
});

afterEach(() => setTextMeasure(null));

test('concurrent renders all use the installed text measure; Vega’s own is restored after the last', async () => {
  const wide = (_item: unknown, text: unknown) => String(text).length * 30;
  const specs = ['a long axis title', 'another long axis title', 'a third title'].map(chart);
  setTextMeasure(wide);
  const alone = [];
  for (const s of specs) alone.push((await renderVegaLite(s)).svg);
  const together = (await Promise.all(specs.map((s) => renderVegaLite(s)))).map((r) => r.svg);
  expect(together).toEqual(alone);
  setTextMeasure(null);
  // Vega's measure is back: the same chart lays out differently without the wide measure.
  expect((await renderVegaLite(specs[0]!)).svg).not.toEqual(alone[0]);
});
