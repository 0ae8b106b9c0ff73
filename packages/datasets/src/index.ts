/**
 * `@bnlab/datasets`: MNIST, Fashion-MNIST and CIFAR-10 loaders from their real file formats, with checksums, cache and batching.
 *
 * @packageDocumentation
 */
export const PACKAGE_NAME = '@bnlab/datasets';
