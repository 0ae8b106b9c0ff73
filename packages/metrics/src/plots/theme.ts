/** The font stack of every chart: DejaVu Sans (what the PNG renderer loads) first. */
export const CHART_FONT = 'DejaVu Sans, Verdana, Helvetica, Arial, sans-serif';

/**
 * The Vega-Lite `config` bnlab's charts share (merged under a spec's own `config`): readable sizes, no truncated legend or axis
 * labels, a white background (PNG has no page behind it), colour-blind-safe categories.
 */
export const CHART_CONFIG = {
  font: CHART_FONT,
  background: 'white',
  padding: 12,
  view: { stroke: '#dddddd' },
  title: { fontSize: 15, fontWeight: 'bold', anchor: 'start', offset: 10 },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    labelLimit: 0,
    labelOverlap: true,
    labelSeparation: 4,
    grid: true,
    gridColor: '#eeeeee',
    tickColor: '#888888',
    domainColor: '#888888',
  },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 0, symbolStrokeWidth: 2.5, orient: 'right' },
  header: { labelFontSize: 12, titleFontSize: 12, labelLimit: 0 },
  range: {
    // Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
    category: ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'],
  },
} as const;
