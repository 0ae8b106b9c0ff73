import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BnlabError } from '../errors.js';
import { packageFolder } from './package_folder.js';

/**
 * The WebAssembly binaries of tfjs-backend-wasm a page may fetch: the plain build (no SIMD),
 * the SIMD build, and the threaded SIMD build that cross-origin-isolated pages get.
 */
export const TFJS_WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/** The folder holding {@link TFJS_WASM_FILES}: `dist/` of the installed `@tensorflow/tfjs-backend-wasm`. */
export function tfjsWasmFolder(): string {
  const folder = packageFolder('@tensorflow/tfjs-backend-wasm');
  if (folder === undefined) {
    throw new BnlabError(
      'BACKEND_UNAVAILABLE',
      '@tensorflow/tfjs-backend-wasm is not installed where @bnlab/core can require it; npm install @tensorflow/tfjs-backend-wasm@~4.22.0',
    );
  }
  return join(folder, 'dist');
}

/**
 * Copies {@link TFJS_WASM_FILES} into `dir` (made if missing), for a web app to serve; point
 * `initBackend({ wasmPaths })` at the URL they are served under. Each file is written under a
 * temporary name and renamed, so a failed copy leaves no partial file. Returns the paths written.
 *
 * @example
 * ```ts
 * // scripts/copy-wasm.mjs, run before `vite build` (Vite serves and copies public/ as is)
 * import { copyWasmFiles } from '@bnlab/core/node';
 * await copyWasmFiles('public/tfjs-wasm');
 * // in the app: await initBackend({ wasmPaths: '/tfjs-wasm/' });
 * ```
 */
export async function copyWasmFiles(dir: string): Promise<string[]> {
  const from = tfjsWasmFolder();
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new BnlabError('IO_ERROR', `could not make the folder ${dir} for the .wasm files: ${(e as Error).message}`, {
      where: dir,
      cause: e,
    });
  }
  const written: string[] = [];
  for (const name of TFJS_WASM_FILES) {
    const target = join(dir, name);
    const temporary = `${target}.${process.pid}.partial`;
    try {
      await copyFile(join(from, name), temporary);
      await rename(temporary, target);
    } catch (e) {
      await rm(temporary, { force: true });
      throw new BnlabError('IO_ERROR', `could not copy ${name} from ${from} to ${dir}: ${(e as Error).message}`, {
        where: target,
        cause: e,
      });
    }
    written.push(target);
  }
  return written;
}
