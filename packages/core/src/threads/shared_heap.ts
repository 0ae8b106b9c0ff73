import { definedMemoryAsSharedImport, MAX_PAGES } from '../kernels/simd/shared_memory.js';

let wanted = false;

/**
 * Asks that the next start of the wasm backend put tfjs's heap on a shared
 * `WebAssembly.Memory`, so that bnlab's kernels can split their work over worker threads
 * (see `initBackend`'s `threads`). tfjs-backend-wasm's single-threaded builds, the ones it
 * loads in Node, define their memory inside the module; {@link startWithSharedHeap} rewrites
 * the module as it is instantiated to import a shared one instead (the code is unchanged).
 */
export function requestSharedHeap(on: boolean): void {
  wanted = on;
}

type Instantiate = typeof WebAssembly.instantiate;

function bytesOf(source: unknown): Uint8Array | null {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return null;
}

/**
 * Runs `start` (the wasm backend's start) with `WebAssembly.instantiate` intercepted when a
 * shared heap is requested: the first module instantiated from bytes with an `env` import
 * object that defines its own memory (tfjs's) is rewritten to import a shared memory, and
 * given one. If the engine refuses the rewritten module, the original is instantiated as
 * before (bnlab's kernels then run on one thread). The interception ends with `start`.
 */
export async function startWithSharedHeap<T>(start: () => T | Promise<T>): Promise<T> {
  if (!wanted || typeof SharedArrayBuffer === 'undefined') return start();
  const original: Instantiate = WebAssembly.instantiate;
  let done = false;
  const intercepted = function (this: unknown, source: unknown, imports?: WebAssembly.Imports): Promise<unknown> {
    const bytes = done ? null : bytesOf(source);
    const env = imports?.['env'] as Record<string, unknown> | undefined;
    const shared = bytes && env && typeof env === 'object' ? definedMemoryAsSharedImport(bytes) : null;
    if (!shared || !env) return (original as (...a: unknown[]) => Promise<unknown>).call(WebAssembly, source, imports);
    done = true;
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: shared.initialPages, maximum: MAX_PAGES, shared: true });
    } catch {
      return (original as (...a: unknown[]) => Promise<unknown>).call(WebAssembly, source, imports);
    }
    env['memory'] = memory;
    return original.call(WebAssembly, shared.bytes, imports).catch(() => {
      delete env['memory'];
      return (original as (...a: unknown[]) => Promise<unknown>).call(WebAssembly, source, imports);
    });
  };
  WebAssembly.instantiate = intercepted as unknown as Instantiate;
  try {
    return await start();
  } finally {
    WebAssembly.instantiate = original;
  }
}
