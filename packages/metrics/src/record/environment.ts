import { env, getBackend, version_core } from '@tensorflow/tfjs-core';
import { version_layers } from '@tensorflow/tfjs-layers';
import type { BackendInfo } from '@bnlab/core';

/** Where a run ran: what a report shows under "Environment". Plain JSON. */
export interface RunEnvironment {
  /** The active tfjs backend (`'wasm'`, `'cpu'`, …). */
  backend: string;
  /** WebAssembly SIMD in use. */
  simd: boolean;
  /** Which build of bnlab's SIMD kernels ran (`'relaxed'`, `'simd'`), when known. */
  simdKernels?: string | null;
  /** Whether bnlab's kernels computed 3×3 convolutions as Winograd F(4×4, 3×3), when known. */
  winograd?: boolean;
  /** wasm threads (1 when single-threaded or not on wasm). */
  threads: number;
  /** Threads bnlab's own kernels ran on (the calling one included), when known. */
  kernelThreads?: number;
  /** Package name → version: tfjs-core, tfjs-layers, and what the caller adds. */
  versions: Record<string, string>;
  /** `node vX` or the browser's user agent. */
  runtime: string;
  /** The operating system (Node's `process.platform`). */
  platform?: string;
  /** The CPU architecture (Node's `process.arch`). */
  arch?: string;
  /** Number of logical CPUs, when known. */
  cpus?: number;
  [key: string]: unknown;
}

/** Options of {@link captureEnvironment}. */
export interface CaptureEnvironmentOptions {
  /** What `initBackend` returned; its SIMD, SIMD kernels, threads and wasm version are recorded. */
  backendInfo?: BackendInfo;
  /** More package versions to record, e.g. `{ '@bnlab/models': '0.1.0' }`. */
  versions?: Record<string, string>;
  /** Anything else worth keeping (merged last). */
  extra?: Record<string, unknown>;
}

function flag(name: string): boolean {
  try {
    return env().getBool(name);
  } catch {
    return false;
  }
}

/**
 * Describes the environment a run happens in: backend, SIMD, threads, package versions and
 * the runtime. Call it after the backend is started.
 */
export function captureEnvironment(options: CaptureEnvironmentOptions = {}): RunEnvironment {
  const info = options.backendInfo;
  let backend = 'none';
  try {
    backend = getBackend() ?? 'none';
  } catch {
    // No backend started yet: keep 'none'.
  }
  const onWasm = backend === 'wasm';
  const versions: Record<string, string> = {
    '@tensorflow/tfjs-core': version_core,
    '@tensorflow/tfjs-layers': version_layers,
  };
  if (info && onWasm) versions['@tensorflow/tfjs-backend-wasm'] = info.wasmVersion;
  Object.assign(versions, options.versions);

  const proc = (globalThis as { process?: NodeJS.Process }).process;
  const nav = (globalThis as { navigator?: { userAgent?: string; hardwareConcurrency?: number } }).navigator;
  const isNode = proc?.versions?.node != null;
  const result: RunEnvironment = {
    backend,
    simd: info ? info.simd && onWasm : onWasm && flag('WASM_HAS_SIMD_SUPPORT'),
    threads: info && onWasm ? info.threads : 1,
    versions,
    runtime: isNode ? `node ${proc?.version ?? ''}`.trim() : (nav?.userAgent ?? 'unknown'),
  };
  if (info) {
    result.simdKernels = onWasm ? info.simdKernels : null;
    // (A BackendInfo from a @bnlab/core before Winograd has no such field.)
    if (typeof info.winograd === 'boolean') result.winograd = onWasm && info.winograd;
    if (typeof info.kernelThreads === 'number') result.kernelThreads = onWasm ? info.kernelThreads : 1;
  }
  if (isNode && proc) {
    result.platform = proc.platform;
    result.arch = proc.arch;
  }
  const cpus = nav?.hardwareConcurrency;
  if (typeof cpus === 'number') result.cpus = cpus;
  return { ...result, ...options.extra };
}
