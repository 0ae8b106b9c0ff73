/**
 * `@bnlab/models`: Architecture builders with configurable normalization type and placement, and model files.
 *
 * @packageDocumentation
 */
export const PACKAGE_NAME = '@bnlab/models';
