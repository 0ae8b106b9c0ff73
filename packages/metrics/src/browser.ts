/**
 * `@bnlab/metrics/browser`: the part of `@bnlab/metrics` that runs anywhere tfjs runs —
 * browsers included — with no Node module behind it: the {@link TrainingRecorder}, records
 * and their JSON/CSV text, statistics, Vega-Lite charts as SVG and {@link buildReport}.
 * The main entry `@bnlab/metrics` has all of this plus the Node-only parts (files, PNG,
 * feature-map pictures, `writeReport`).
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
export type { TrainingRecorderOptions, BatchNormEvaluation, BatchMeasurement, EpochFigures } from './recorder/training_recorder.js';
export { RecorderCallback } from './recorder/recorder_callback.js';
export type { CallbackLogs } from './recorder/recorder_callback.js';
export { DivergenceDetector } from './recorder/divergence.js';
export type { DivergenceOptions, DivergenceVerdict } from './recorder/divergence.js';
export { evaluateModel, compiledLoss, countCorrect, preservingState } from './recorder/evaluate.js';
export type { LabelledTensors, LabelledData, LossFunction, EvaluationResult, EvaluateOptions } from './recorder/evaluate.js';
export { findBlocks } from './recorder/blocks.js';
export type { ModelBlock, AnyLayer } from './recorder/blocks.js';
export { activationStats, gradientNorms, blockActivations } from './recorder/probes.js';
export { ActivationTracer, percentilesOfSorted } from './recorder/activation_trace.js';
export type { ActivationTraceOptions } from './recorder/activation_trace.js';
export type { ActivationStats, GradientNorms, BlockActivations, BlockActivationsOptions } from './recorder/probes.js';

export { meanCI } from './stats/summary.js';
export type { MeanCI } from './stats/summary.js';
export { studentTCdf, studentTQuantile } from './stats/student_t.js';
export { emaSmooth } from './stats/smoothing.js';
export { histogram } from './stats/histogram.js';
export type { Histogram, HistogramOptions } from './stats/histogram.js';

export { RECORDS_JSON_FORMAT, recordsToJson, parseRecordsJson, encodeNonFinite } from './export/json.js';
export type { RecordsDocument } from './export/json.js';
export {
  EPOCH_CSV_COLUMNS,
  BATCH_CSV_COLUMNS,
  epochsToCsv,
  batchesToCsv,
  activationTracesToCsv,
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
export { activationTraceChart, activationTracePoints } from './plots/activation_trace_chart.js';
export type { ActivationTracePoint } from './plots/activation_trace_chart.js';
export { sweepChart, sweepFromRecords } from './plots/sweep_chart.js';
export type { SweepPoint, SweepChartOptions, SweepFromRecordsOptions } from './plots/sweep_chart.js';
export { histogramChart } from './plots/histogram_chart.js';
export type { HistogramSeries, HistogramChartOptions } from './plots/histogram_chart.js';
export { extractFeatureMaps } from './plots/feature_maps.js';
export type { FeatureMaps, ExtractFeatureMapsOptions } from './plots/feature_maps.js';

export {
  resultsTable,
  defaultResultMetrics,
  defaultGroupBy,
  formatMeanCI,
  formatResultCell,
  groupRuns,
  groupOf,
  configValue,
} from './report/results.js';
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
