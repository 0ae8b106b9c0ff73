import { BnlabError } from '@bnlab/core';
import { Cifar10Assembler } from '../dataset/cifar10_assembler.js';
import { applyScaling } from '../dataset/splits.js';
import type { ImageDatasetSplits } from '../dataset/splits.js';
import { readTar } from '../formats/tar.js';
import { CIFAR10_SPEC } from '../specs/cifar10.js';
import { archiveChunksWeb } from './archive_chunks_web.js';
import { fetchVerified } from './fetch_verified.js';
import { expectedSha256, joinUrl } from './web_load_options.js';
import type { WebLoadOptions } from './web_load_options.js';

/** Options of CIFAR-10's `load` over HTTP. */
export interface Cifar10WebLoadOptions extends WebLoadOptions {
  /**
   * `'archive'`: fetch `cifar-10-binary.tar.gz` from `baseUrl` and read it as a stream;
   * `'files'`: fetch `data_batch_1.bin` … `test_batch.bin` and `batches.meta.txt` one by one from
   * `baseUrl` (checked only against checksums given in `sha256`).
   * @default 'archive'
   */
  layout?: 'archive' | 'files';
}

/** Loads CIFAR-10's binary distribution over HTTP, with web APIs only (browsers). */
export async function loadCifar10Web(options: Cifar10WebLoadOptions = {}): Promise<ImageDatasetSplits> {
  const spec = CIFAR10_SPEC;
  const baseUrl = options.baseUrl ?? spec.baseUrl;
  const layout = options.layout ?? 'archive';
  let assembler: Cifar10Assembler;
  if (layout === 'archive') {
    const url = joinUrl(baseUrl, spec.archive.name);
    const bytes = await fetchVerified(url, expectedSha256(spec.archive.name, spec.archive.sha256, options.sha256), options);
    assembler = new Cifar10Assembler(url, spec);
    for await (const entry of readTar(archiveChunksWeb(bytes, url), url)) {
      if (entry.type === 'file') assembler.add(entry.path, entry.data);
    }
  } else if (layout === 'files') {
    assembler = new Cifar10Assembler(baseUrl, spec);
    for (const name of [...spec.trainFiles, ...spec.testFiles, spec.metaFile]) {
      const url = joinUrl(baseUrl, name);
      assembler.add(name, await fetchVerified(url, expectedSha256(name, undefined, options.sha256), options), url);
    }
  } else {
    throw new BnlabError('INVALID_ARGUMENT', `layout must be 'archive' or 'files', got '${String(layout)}'`, {
      where: 'layout',
    });
  }
  return applyScaling(assembler.finish(), options.scaling);
}
