/**
 * `@bnlab/models/node`: model files on the local file system, for Node only. Browsers save and
 * load with tfjs's own IndexedDB handler (`model.save('indexeddb://name')`,
 * `tfl.loadLayersModel('indexeddb://name')`) after importing `@bnlab/layers`.
 *
 * @packageDocumentation
 */
export { saveModel, loadModel } from './node/model_files.js';
export type { SaveModelOptions, LoadModelOptions } from './node/model_files.js';
export { nodeFileHandler, MODEL_JSON } from './node/file_handler.js';
