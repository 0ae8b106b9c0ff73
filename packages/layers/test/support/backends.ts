import { initBackend } from '@bnlab/core';
import type { BackendName } from '@bnlab/core';

/** The backends every numerical test runs on. */
export const BACKENDS: readonly BackendName[] = ['wasm', 'cpu'];

/** Starts a backend, refusing a silent fallback (a wasm test must run on wasm). */
export async function useBackend(backend: BackendName): Promise<void> {
  const info = await initBackend({ backend, strict: true });
  if (info.backend !== backend) throw new Error(`wanted the ${backend} backend, got ${info.backend}`);
}
