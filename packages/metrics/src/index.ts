/**
 * `@bnlab/metrics`: Training recorders, JSON/CSV exporters, plots and reports for bnlab experiments.
 *
 * @packageDocumentation
 */
export const PACKAGE_NAME = '@bnlab/metrics';
