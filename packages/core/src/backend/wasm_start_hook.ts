import { engine, registerBackend, removeBackend } from '@tensorflow/tfjs-core';
import type { KernelBackend } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, setUpReplacedStockKernels } from '../kernels/register.js';
import { startWithSharedHeap } from '../threads/shared_heap.js';

type Factory = () => KernelBackend | Promise<KernelBackend>;
interface Registry {
  registryFactory: Record<string, { factory: Factory; priority: number } | undefined>;
  registry: Record<string, KernelBackend | undefined>;
}

const registeredAtStart: string[] = [];
let hooked = false;

/**
 * The kernels the wasm backend's start registered since the last call ({@link initBackend}
 * reports them as its own when its `setBackend('wasm')` started the backend).
 */
export function takeKernelsRegisteredAtStart(): string[] {
  return registeredAtStart.splice(0);
}

/**
 * Makes tfjs's own ways of starting the wasm backend (`await tf.ready()` when wasm is the
 * highest-priority backend, `tf.setBackend('wasm')`) register bnlab's training kernels, so
 * that importing a bnlab package never leaves a wasm backend that cannot train a CNN
 * ("Kernel 'Conv2DBackpropFilter' not registered"). The wasm backend's registration is
 * replaced by one that starts it as before and then registers the kernels; when the backend
 * already runs, the kernels are registered at once. Runs once, when `@bnlab/core` is imported.
 */
export function hookWasmStart(): void {
  if (hooked) return;
  const e = engine() as unknown as Registry;
  const entry = e.registryFactory['wasm'];
  if (!entry) return;
  hooked = true;
  if (e.registry['wasm']) {
    registeredAtStart.push(...registerWasmTrainingKernels());
    return;
  }
  const start = entry.factory;
  removeBackend('wasm');
  registerBackend(
    'wasm',
    async () => {
      // On a shared heap when initBackend asked for kernel threads.
      const backend = await startWithSharedHeap(start);
      registeredAtStart.push(...registerWasmTrainingKernels());
      // tfjs now sets up the kernels registered for wasm — bnlab's — not the stock ones
      // bnlab's fall back to.
      setUpReplacedStockKernels(backend);
      return backend;
    },
    entry.priority,
  );
}
