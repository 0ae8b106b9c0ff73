/**
 * `@bnlab/core/node`: what only Node has — finding installed packages from the calling module,
 * and copying tfjs-backend-wasm's `.wasm` files for a web app to serve.
 *
 * @packageDocumentation
 */
export { packageFolder, callerFile } from './node/package_folder.js';
export { TFJS_WASM_FILES, tfjsWasmFolder, copyWasmFiles } from './node/wasm_files.js';
