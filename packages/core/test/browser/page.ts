// The browser page's script (bundled by the test with esbuild): starts bnlab's wasm backend
// with the threads asked for and reports what it got and what the kernels compute.
import { initBackend } from '../../src/backend/init_backend.js';
import { compute } from './case.js';

(globalThis as unknown as { bnlabRun: unknown }).bnlabRun = async (threads: number) => {
  const info = await initBackend({ wasmPaths: '/wasm/', threads, strict: true });
  return { info: { ...info, kernels: info.kernels.length }, outputs: compute() };
};
