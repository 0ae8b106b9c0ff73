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
export {
  RECORD_VERSION,
  RUN_STATUSES,
  extraKeys,
  createTrainingRecord,
  newRunId,
  runDurationSeconds,
  validateTrainingRecord,
} from './record/record.js';
export type { CreateRecordOptions } from './record/record.js';
export { captureEnvironment } from './record/environment.js';
export type { RunEnvironment, CaptureEnvironmentOptions } from './record/environment.js';

export { TrainingRecorder } from './recorder/training_recorder.js';
export type { TrainingRecorderOptions, BatchMeasurement, EpochFigures } from './recorder/training_recorder.js';
export { RecorderCallback } from './recorder/recorder_callback.js';
export type { CallbackLogs } from './recorder/recorder_callback.js';
export { DivergenceDetector } from './recorder/divergence.js';
export type { DivergenceOptions, DivergenceVerdict } from './recorder/divergence.js';
export { evaluateModel, compiledLoss, countCorrect, preservingState } from './recorder/evaluate.js';
export type { LabelledTensors, LabelledData, LossFunction, EvaluationResult, EvaluateOptions } from './recorder/evaluate.js';
export { findBlocks } from './recorder/blocks.js';
export type { ModelBlock, AnyLayer } from './recorder/blocks.js';
export { activationStats, gradientNorms, blockActivations } from './recorder/probes.js';
export type { ActivationStats, GradientNorms, BlockActivations, BlockActivationsOptions } from './recorder/probes.js';

export { meanCI } from './stats/summary.js';
export type { MeanCI } from './stats/summary.js';
export { studentTCdf, studentTQuantile } from './stats/student_t.js';
export { emaSmooth } from './stats/smoothing.js';
export { histogram } from './stats/histogram.js';
export type { Histogram, HistogramOptions } from './stats/histogram.js';

export { RECORDS_JSON_FORMAT, recordsToJson, parseRecordsJson } from './export/json.js';
export type { RecordsDocument } from './export/json.js';
export {
  EPOCH_CSV_COLUMNS,
  BATCH_CSV_COLUMNS,
  epochsToCsv,
  batchesToCsv,
  flattenConfig,
} from './export/csv.js';
export type { CsvOptions, CsvCell } from './export/csv.js';

export type { Figure } from './plots/figure.js';
export { slug } from './plots/figure.js';
export { CHART_CONFIG, CHART_FONT } from './plots/theme.js';
export { renderVegaLite, setTextMeasure } from './plots/render.js';
export type { RenderedSvg, TextMeasure } from './plots/render.js';
export { FontMetrics } from './plots/font_metrics.js';
export { metricTitle, epochValue, labelByRunId } from './plots/series.js';
export type { LabelledRun, RunGroup, EpochField, EpochMetric } from './plots/series.js';
export { lossCurveChart, epochChart, seedBandChart, seedBandRows, epochAxis, LINE_LEGEND } from './plots/line_charts.js';
export type { ChartOptions, LossCurveOptions, EpochChartOptions, SeedBandOptions, SeedBandRow } from './plots/line_charts.js';
export { sweepChart, sweepFromRecords } from './plots/sweep_chart.js';
export type { SweepPoint, SweepChartOptions, SweepFromRecordsOptions } from './plots/sweep_chart.js';
export { histogramChart } from './plots/histogram_chart.js';
export type { HistogramSeries, HistogramChartOptions } from './plots/histogram_chart.js';
export { extractFeatureMaps } from './plots/feature_maps.js';
export type { FeatureMaps, ExtractFeatureMapsOptions } from './plots/feature_maps.js';

export { resultsTable, defaultResultMetrics, defaultGroupBy, formatMeanCI, groupRuns, groupOf, configValue } from './report/results.js';
export type { ResultMetric, ResultRow, ResultsTable, GroupBy } from './report/results.js';
export { buildReport, standardFigures, sharedConfig } from './report/report.js';
export type {
  ExperimentReportInput,
  ExperimentReport,
  BuiltReport,
  KeyValueRows,
} from './report/report.js';
export { renderHtml, escapeHtml } from './report/html.js';
export { renderMarkdown } from './report/markdown.js';

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
