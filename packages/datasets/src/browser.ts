/**
 * The browser entry of `@bnlab/datasets` (chosen by bundlers through the `browser` export
 * condition): the same formats, datasets and batching as the Node entry, with the data fetched
 * over HTTP (fetch, `DecompressionStream`, Web Crypto) and no Node module anywhere in its import
 * graph. `mnist`, `fashionMnist` and `cifar10` here are the web loaders ({@link mnistWeb} …).
 *
 * @packageDocumentation
 */
export * from './portable.js';
export { mnistWeb as mnist, fashionMnistWeb as fashionMnist, cifar10Web as cifar10 } from './web/datasets_web.js';
