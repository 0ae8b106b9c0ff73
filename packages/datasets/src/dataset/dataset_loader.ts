import type { DatasetInfo } from '../specs/dataset_info.js';
import type { ImageDatasetSplits } from './splits.js';

/** A dataset before loading: its {@link DatasetInfo}, and `load` to get its splits. */
export interface DatasetLoader<Options> extends DatasetInfo {
  /** Loads, verifies and parses the dataset; see the options for the sources tried. */
  load(options?: Options): Promise<ImageDatasetSplits>;
}

/** The {@link DatasetInfo} fields of a spec (without its files and URLs). */
export function infoOf(spec: DatasetInfo): DatasetInfo {
  const { name, classNames, numClasses, imageShape, trainSize, testSize } = spec;
  return { name, classNames, numClasses, imageShape, trainSize, testSize };
}
