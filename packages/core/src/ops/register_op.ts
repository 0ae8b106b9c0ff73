import { getKernel, registerGradient, registerKernel } from '@tensorflow/tfjs-core';
import type { GradConfig, KernelFunc } from '@tensorflow/tfjs-core';

/**
 * The kernels of one of bnlab's fused ops: forward and gradient, each for wasm and cpu. An
 * op whose gradient function runs existing kernels has no gradient kernel of its own.
 */
export interface OpKernels {
  forward: string;
  gradient?: string;
  wasm: { forward: KernelFunc; gradient?: KernelFunc };
  cpu: { forward: KernelFunc; gradient?: KernelFunc };
}

const registered = new Set<string>();

/**
 * Registers a fused op's kernels (where the backend has none of that name yet) and its
 * gradient, once per op: later calls return at once, so an op calls this before every use.
 */
export function registerOp(kernels: OpKernels, gradient: GradConfig): void {
  if (registered.has(kernels.forward)) return;
  registered.add(kernels.forward);
  for (const backendName of ['wasm', 'cpu'] as const) {
    const funcs = kernels[backendName];
    for (const [kernelName, kernelFunc] of [
      [kernels.forward, funcs.forward],
      [kernels.gradient, funcs.gradient],
    ] as const) {
      if (kernelName && kernelFunc && !getKernel(kernelName, backendName)) registerKernel({ kernelName, backendName, kernelFunc });
    }
  }
  registerGradient(gradient);
}
