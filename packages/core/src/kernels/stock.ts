import type { KernelFunc } from '@tensorflow/tfjs-core';

const stock = new Map<string, KernelFunc>();

/**
 * Remembers tfjs-backend-wasm's own kernel for a kernel bnlab replaces, so bnlab's kernel
 * can hand the cases its fast path does not cover back to it.
 */
export function setStockKernel(name: string, kernel: KernelFunc | null): void {
  if (kernel) stock.set(name, kernel);
  else stock.delete(name);
}

/** Runs tfjs-backend-wasm's own kernel `name` (the one bnlab replaced). */
export function runStock(name: string, args: Parameters<KernelFunc>[0]): ReturnType<KernelFunc> {
  const k = stock.get(name);
  if (!k) throw new Error(`bnlab: tfjs-backend-wasm's own '${name}' kernel is not available`);
  return k(args);
}
