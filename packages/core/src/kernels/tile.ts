import { Tile } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo, TileAttrs } from '@tensorflow/tfjs-core';
import { asWasmBackend } from './wasm_backend.js';

/**
 * `Tile` on the wasm backend by block copies: the tensor is repeated along one axis at a
 * time, innermost first, each repetition one `TypedArray.set` of a contiguous block.
 *
 * tfjs-backend-wasm 4.22's `Tile` computes every output element's source index with
 * divisions, which made it the single largest cost of training a batch-norm CNN
 * (tfjs-core's batch-norm gradient tiles the statistics to the activation's full shape).
 */
const tile: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = asWasmBackend(anyBackend);
  const { x } = inputs as { x: TensorInfo };
  const { reps } = attrs as unknown as TileAttrs;
  const shape = x.shape.slice();
  const outShape = shape.map((d, i) => d * (reps[i] ?? 1));
  const source = backend.typedArrayFromHeap(x);
  // `data` holds the tensor tiled along the axes after `axis`, in a fresh array each step.
  let data: Float32Array | Int32Array | Uint8Array = source.slice();
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const r = reps[axis] ?? 1;
    if (r === 1) continue;
    let inner = 1;
    for (let i = axis; i < shape.length; i++) inner *= shape[i] as number;
    const outer = data.length / inner;
    const next = new (data.constructor as { new (n: number): typeof data })(data.length * r);
    for (let o = 0; o < outer; o++) {
      const block = data.subarray(o * inner, (o + 1) * inner);
      for (let k = 0; k < r; k++) next.set(block, (o * r + k) * inner);
    }
    data = next;
    shape[axis] = (shape[axis] as number) * r;
  }
  const out = backend.makeOutput(outShape, x.dtype);
  backend.typedArrayFromHeap(out).set(data);
  return out;
};

export const tileConfig: KernelConfig = {
  kernelName: Tile,
  backendName: 'wasm',
  kernelFunc: tile,
};
