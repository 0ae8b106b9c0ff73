import { idxSplitDataset } from '../dataset/from_idx.js';
import { applyScaling } from '../dataset/splits.js';
import type { ImageDatasetSplits } from '../dataset/splits.js';
import { isGzip, maxGunzippedBytes } from '../formats/gzip.js';
import { idxSizeLimit } from '../formats/idx.js';
import { IDX_FILE_ROLES } from '../specs/dataset_info.js';
import type { IdxDatasetSpec, IdxFileRole } from '../specs/dataset_info.js';
import { gunzipWeb } from './decompress.js';
import { fetchVerified } from './fetch_verified.js';
import { expectedSha256, joinUrl } from './web_load_options.js';
import type { WebLoadOptions } from './web_load_options.js';

/**
 * Loads an IDX dataset (MNIST layout) over HTTP: fetches the four `.gz` files from
 * `baseUrl`, verifies their SHA-256, decompresses them with `DecompressionStream` and parses
 * them with the same readers as in Node. Uses only web APIs, so it runs in browsers.
 */
export async function loadIdxWeb(spec: IdxDatasetSpec, options: WebLoadOptions = {}): Promise<ImageDatasetSplits> {
  const baseUrl = options.baseUrl ?? spec.baseUrl;
  const bytes = {} as Record<IdxFileRole, { data: Uint8Array; url: string }>;
  for (const role of IDX_FILE_ROLES) {
    const file = spec.files[role];
    const url = joinUrl(baseUrl, file.name);
    let data = await fetchVerified(url, expectedSha256(file.name, file.sha256, options.sha256), options);
    if (isGzip(data)) {
      const limit = idxSizeLimit(url, maxGunzippedBytes(data.length));
      data = await gunzipWeb(data, url, limit, 'the size its IDX header declares');
    }
    bytes[role] = { data, url };
  }
  const split = (name: string, images: IdxFileRole, labels: IdxFileRole) =>
    idxSplitDataset(spec, name, {
      images: bytes[images].data,
      labels: bytes[labels].data,
      imagesSource: bytes[images].url,
      labelsSource: bytes[labels].url,
    });
  const splits = {
    train: split('train', 'trainImages', 'trainLabels'),
    test: split('test', 'testImages', 'testLabels'),
  };
  return applyScaling(splits, options.scaling);
}
