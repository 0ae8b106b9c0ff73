/**
 * `@bnlab/metrics`: what a training run records, and the plots and reports people look at.
 *
 * - {@link TrainingRecorder}: a `model.fit` / `fitDataset` callback (or custom-loop helper)
 *   recording loss and accuracy per batch; per epoch the train, validation and test figures
 *   (evaluation in inference mode), wall time, images/s and learning rate; optionally
 *   gradient norms, pre-activation statistics and training- vs inference-mode accuracy on a
 *   probe batch. It stops diverging runs and keeps their record.
 * - Exporters: versioned JSON ({@link recordsToJson}) and tidy CSV ({@link epochsToCsv},
 *   {@link batchesToCsv}).
 * - Charts rendered headless with Vega-Lite to SVG ({@link lossCurveChart}, {@link epochChart},
 *   {@link seedBandChart}, {@link sweepChart}, {@link histogramChart}), statistics
 *   ({@link meanCI} with Student's t).
 * - Reports: one self-contained HTML file and a Markdown version per experiment, with mean ±
 *   95% confidence intervals over seeds ({@link buildReport}).
 *
 * - Node only: files written atomically ({@link writeFileAtomic}, {@link writeRecordsJson},
 *   {@link writeEpochsCsv}, …), PNG rendering with resvg ({@link svgToPng}), feature-map
 *   pictures ({@link featureMapFigure}) and reports on disk ({@link writeReport}).
 *   `@bnlab/metrics/browser` is the subset without them, for browser bundles.
 *
 * In Node, charts measure their text with the font the PNGs are drawn with (DejaVu Sans,
 * Debian package `fonts-dejavu-core`).
 *
 * @packageDocumentation
 */
// Everything that runs anywhere (the browser entry), then the Node-only parts.
export * from './browser.js';

// Node only (also left out of `@bnlab/metrics/browser`).
export { writeFileAtomic } from './node/atomic_write.js';
export { writeRecordsJson, readRecordsJson } from './node/json_file.js';
export { writeEpochsCsv, writeBatchesCsv } from './node/csv_file.js';
export { svgToPng, defaultFontFiles, fontMetricsFromFile, fontFileMeasure, FONT_CANDIDATES } from './node/png.js';
export type { SvgToPngOptions } from './node/png.js';
export { featureMapFigure, featureMapPng } from './node/feature_map_figure.js';
export type { FeatureMapRow, FeatureMapFigureOptions, Colormap } from './node/feature_map_figure.js';
export { writeReport } from './node/write_report.js';
export type { WriteReportOptions, WrittenReport } from './node/write_report.js';
