/**
 * `@bnlab/cli`: The bnlab command: runs normalization experiments end to end.
 *
 * @packageDocumentation
 */
export const PACKAGE_NAME = '@bnlab/cli';
