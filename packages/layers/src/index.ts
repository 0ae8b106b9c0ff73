/**
 * `@bnlab/layers`: Batch, Layer, Group and Instance normalization as TensorFlow.js custom layers.
 *
 * @packageDocumentation
 */
export const PACKAGE_NAME = '@bnlab/layers';
