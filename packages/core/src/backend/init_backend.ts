import { backend, env, getBackend, ready, setBackend, version_core } from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradient functions; tfjs-layers' bundle (and its ESM
// entry, for bundlers) registers all of them into tfjs's global registry. Training needs them.
import { version_layers } from '@tensorflow/tfjs-layers';
import { getThreadsCount, setThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { BnlabError } from '../errors.js';
import { registerWasmTrainingKernels } from '../kernels/register.js';
import { setRelaxedSimd, simdFor, simdKernels } from '../kernels/simd/simd_module.js';
import { asWasmBackend } from '../kernels/wasm_backend.js';
import { setWinograd, winogradEnabled } from '../kernels/winograd.js';
import { hookWasmStart, takeKernelsRegisteredAtStart } from './wasm_start_hook.js';
import { requestSharedHeap } from '../threads/shared_heap.js';
import { kernelThreadsFailure, setKernelThreads, stopKernelThreads } from '../threads/kernel_threads.js';
import type { SimdKernels } from '../kernels/simd/simd_module.js';
import { checkTfjsVersions } from './tfjs_versions.js';
import { tfjsNormalizationFused, useFusedTfjsNormalization, useStockTfjsNormalization } from '../layers/tfjs_normalization.js';

/** The backends bnlab runs on. */
export type BackendName = 'wasm' | 'cpu';

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** The backend to start. @default 'wasm' */
  backend?: BackendName;
  /**
   * Throw instead of falling back to `cpu` when wasm cannot start.
   * @default false
   */
  strict?: boolean;
  /**
   * Where the `.wasm` binaries are, for browsers: a path or URL prefix ending in `/`, or a
   * map from file name to URL (as tfjs's `setWasmPaths`). In Node they are read from the
   * installed `@tensorflow/tfjs-backend-wasm` package and this is normally left unset.
   */
  wasmPaths?: string | Record<string, string>;
  /**
   * Threads for the kernels, the calling one included. bnlab's own kernels (convolutions and
   * their gradients, matrix products) split their work over that many threads sharing the
   * wasm heap: worker threads in Node, Web Workers in cross-origin-isolated pages (where
   * tfjs's XNNPACK operators get the same count, capped by tfjs at half of
   * `navigator.hardwareConcurrency`, at most 8). In Node the heap is made shared when the
   * wasm backend starts, so this must be set on the `initBackend` call that starts it
   * (later calls can change the count, not share an unshared heap: they then warn).
   * Results equal one thread's up to the order of rounding in summed gradients.
   * {@link BackendInfo.kernelThreads} reports what runs.
   * @default 1
   */
  threads?: number;
  /**
   * Let bnlab's kernels use relaxed SIMD (fused multiply-add in convolutions and matrix
   * products) where the engine supports it: Chrome 114+, Node 22+; Node 20 only when
   * started with `--experimental-wasm-relaxed-simd`. Faster; results may differ by
   * rounding between machines (one rounding per multiply-add instead of two). `false` keeps
   * the plain SIMD build everywhere.
   * @default true
   */
  relaxedSimd?: boolean;
  /**
   * Compute 3×3 stride-1 convolutions with at least 8 channels, and their gradients, as
   * Winograd F(4×4, 3×3) (up to 4× fewer multiply-adds; 1.6–2× faster on the benchmark
   * CNN's second layer). Rounding is larger than a direct sum's (about 1e-6 to 1e-5 of the
   * largest output), and a NaN or infinity reaches more outputs than in a direct sum: every
   * output of the 4×4 blocks whose 6×6 input window holds it (an infinity becomes NaN there),
   * all 9 taps of the filter gradient, a 6×6 neighbourhood of the input gradient. A run that
   * goes non-finite is non-finite either way. `false` keeps the direct (patch-matrix)
   * convolution. See `setWinograd`.
   * @default true
   */
  winograd?: boolean;
  /**
   * Run tfjs-layers' own `tf.layers.batchNormalization` (in training) and
   * `tf.layers.layerNormalization` on bnlab's fused ops, as fast as @bnlab/layers' layers
   * (instead of 0.45× and 0.01–0.1× on the benchmark models): channels-last batch norm, layer
   * norm over trailing axes, float32; the same maths as tfjs's (biased batch variance, its
   * moving-average update), results within float32 rounding of tfjs's cpu backend. `false`
   * leaves them on tfjs's own code. On wasm only.
   * @default true
   */
  accelerateTfjsLayers?: boolean;
  /** Receives the warning when bnlab falls back to cpu. @default console.warn */
  onWarning?: (message: string) => void;
}

/** What {@link initBackend} started. */
export interface BackendInfo {
  backend: BackendName;
  /** WebAssembly SIMD in use. */
  simd: boolean;
  /**
   * Which build of bnlab's own SIMD kernels runs: `'relaxed'` (fused multiply-add),
   * `'simd'`, or null (no bnlab kernels: cpu backend, or no WebAssembly SIMD).
   */
  simdKernels: SimdKernels | null;
  /**
   * Whether bnlab's kernels compute 3×3 stride-1 convolutions as Winograd F(4×4, 3×3)
   * (see {@link InitBackendOptions.winograd}) as set by this call; false without bnlab's SIMD
   * kernels. (A later `setWinograd` changes the kernels, not this record.)
   */
  winograd: boolean;
  /** Threads in tfjs's XNNPACK thread pool (1 in Node, in pages that are not cross-origin isolated, and on cpu). */
  threads: number;
  /** Threads bnlab's own kernels use, the calling one included (1 on cpu or without a shared heap). */
  kernelThreads: number;
  /** tfjs-core version. */
  version: string;
  /** tfjs-backend-wasm version. */
  wasmVersion: string;
  /** Whether tfjs-layers' `BatchNormalization` and `LayerNormalization` run on bnlab's fused ops ({@link InitBackendOptions.accelerateTfjsLayers}). */
  tfjsLayersAccelerated: boolean;
  /** Kernels this call registered for the backend (empty when an earlier call already had). */
  kernels: string[];
}

let wasmPathsSet = false;

// tf.ready() and tf.setBackend('wasm') start the wasm backend with bnlab's kernels too.
hookWasmStart();

function isNode(): boolean {
  return typeof process !== 'undefined' && process.versions != null && process.versions.node != null;
}

/**
 * Starts the TensorFlow.js backend bnlab trains on: the SIMD WebAssembly backend by
 * default, with bnlab's training kernels registered, falling back to the pure-JS `cpu`
 * backend (with a warning) only when wasm cannot start.
 *
 * @example
 * ```ts
 * const info = await initBackend();          // { backend: 'wasm', simd: true, simdKernels: 'simd', … }
 * await initBackend({ strict: true });        // throws BACKEND_UNAVAILABLE instead of falling back
 * await initBackend({ wasmPaths: '/static/tfjs-wasm/' });  // browsers
 * ```
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const wanted = options.backend ?? 'wasm';
  if (wanted !== 'wasm' && wanted !== 'cpu') {
    throw new BnlabError('INVALID_ARGUMENT', `backend must be 'wasm' or 'cpu', got '${String(wanted)}'`, {
      where: 'backend',
    });
  }
  checkTfjsVersions({
    '@tensorflow/tfjs-core': version_core,
    '@tensorflow/tfjs-layers': version_layers,
    '@tensorflow/tfjs-backend-wasm': version_wasm,
    '@tensorflow/tfjs-backend-cpu': version_cpu,
  });
  const warn = options.onWarning ?? ((m: string) => console.warn(m));

  if (wanted === 'wasm') {
    setRelaxedSimd(options.relaxedSimd ?? true);
    setWinograd(options.winograd ?? true);
    if (options.wasmPaths !== undefined && !wasmPathsSet) {
      setWasmPaths(options.wasmPaths);
      wasmPathsSet = true;
    }
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new BnlabError('INVALID_ARGUMENT', `threads must be an integer from 1 to 256, got ${String(options.threads)}`, {
        where: 'threads',
      });
    }
    if (options.threads !== undefined && !isNode()) setThreadsCount(options.threads);
    // Asked for before the backend starts; no effect on one that already runs.
    if (threads > 1) requestSharedHeap(true);
    let started = false;
    let cause: unknown;
    try {
      started = await setBackend('wasm');
    } catch (e) {
      cause = e;
    }
    if (started) {
      await ready();
      const kernels = [...takeKernelsRegisteredAtStart(), ...registerWasmTrainingKernels()];
      if (options.accelerateTfjsLayers === false) useStockTfjsNormalization();
      else useFusedTfjsNormalization();
      const wasmBackend = asWasmBackend(backend());
      const kernelThreads = await setKernelThreads(wasmBackend, threads);
      const failure = kernelThreadsFailure();
      if (threads > 1 && kernelThreads === 1 && failure) {
        warn(`bnlab: ${threads} threads asked for, bnlab's kernels run on 1: ${failure}`);
      } else if (threads > 1 && kernelThreads === 1 && simdFor(wasmBackend)) {
        warn(
          `bnlab: ${threads} threads asked for, bnlab's kernels run on 1: the wasm backend was started before initBackend({ threads }) ` +
            (isNode() ? '(its heap is not shared)' : '(a page that is not cross-origin isolated has no shared memory)'),
        );
      }
      return describe('wasm', kernels, kernelThreads);
    }
    const reason = cause instanceof Error ? cause.message : 'the wasm module did not initialize';
    if (options.strict) {
      throw new BnlabError('BACKEND_UNAVAILABLE', `the wasm backend could not start: ${reason}`, { cause });
    }
    warn(`bnlab: the wasm backend could not start (${reason}); falling back to the slower cpu backend`);
  }

  if (!(await setBackend('cpu'))) {
    throw new BnlabError('BACKEND_UNAVAILABLE', 'neither the wasm nor the cpu backend could start');
  }
  await ready();
  // The cpu backend's first write prints advice to install tfjs-node; bnlab's answer to
  // "faster" is the wasm backend, and the fallback warning above already says so.
  (backend() as unknown as { firstUse?: boolean }).firstUse = false;
  stopKernelThreads();
  return describe('cpu', [], 1);
}

function describe(name: BackendName, kernels: string[], kernelThreads: number): BackendInfo {
  const simd = name === 'wasm' && env().getBool('WASM_HAS_SIMD_SUPPORT');
  // The threads XNNPACK's pool really has (1 unless the threaded build runs: a
  // cross-origin-isolated page), and bnlab's kernels only if they bind to the backend's memory.
  const threads = name === 'wasm' ? getThreadsCount() : 1;
  const ours = name === 'wasm' && simdFor(asWasmBackend(backend())) ? simdKernels() : null;
  return {
    backend: name,
    simd,
    simdKernels: ours,
    winograd: ours !== null && winogradEnabled(),
    threads,
    kernelThreads,
    tfjsLayersAccelerated: name === 'wasm' && tfjsNormalizationFused(),
    version: version_core,
    wasmVersion: version_wasm,
    kernels,
  };
}

/** The name of the active backend, as tfjs reports it. */
export function activeBackend(): string {
  return getBackend();
}
