import { Slice, slice_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, SliceAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { runStock } from './stock.js';
import { asWasmBackend } from './wasm_backend.js';

/** Floats below which a contiguous run costs more as a JavaScript copy than tfjs-wasm's loop. */
const MIN_RUN = 16;

/**
 * `Slice` on the wasm backend as block copies: the slice is a sequence of contiguous runs of
 * its input (everything from the last axis it cuts inwards), each copied in one
 * `copyWithin` on the heap. The gradient of a zero padding is such a slice: tfjs-wasm 4.22
 * took 10–13 ms for ResNet-20's `ZeroPadding2D` gradient (128 × 34 × 34 × 16 → 32 × 32),
 * element by element. Runs under 16 elements, and other dtypes than 4-byte ones, go to
 * tfjs-wasm's own kernel.
 */
const slice: KernelFunc = (args) => {
  const backend = asWasmBackend(args.backend);
  const { x } = args.inputs as { x: TensorInfo };
  const { begin, size } = args.attrs as unknown as SliceAttrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return runStock(Slice, args);
  const [start, extent] = slice_util.parseSliceParams(x, begin, size);
  const shape = x.shape;
  const rank = shape.length;
  // The last axis the slice cuts; the run covers it and everything inside it.
  let cut = rank - 1;
  while (cut >= 0 && extent[cut] === shape[cut]) cut--;
  const inner = util.sizeFromShape(shape.slice(cut + 1));
  const run = cut < 0 ? inner : (extent[cut] as number) * inner;
  const total = util.sizeFromShape(extent);
  if (total > 0 && run < MIN_RUN) return runStock(Slice, args);
  const out = backend.makeOutput(extent.slice(), x.dtype);
  if (total === 0) return out;
  const strides = util.computeStrides(shape);
  // (Views of the heap are taken after makeOutput, which may grow the memory.)
  const heap = backend.wasm.HEAPF32;
  const from = backend.dataIdMap.get(x.dataId)!.memoryOffset >> 2;
  let to = backend.dataIdMap.get(out.dataId)!.memoryOffset >> 2;
  const element = (axis: number): number => (axis < rank - 1 ? (strides[axis] as number) : 1);
  const base = cut < 0 ? 0 : (start[cut] as number) * inner;
  // Walk the index tuples of the axes before `cut`, innermost fastest.
  const index = new Array<number>(Math.max(cut, 0)).fill(0);
  const runs = total / run;
  for (let r = 0; r < runs; r++) {
    let at = from + base;
    for (let a = 0; a < cut; a++) at += ((start[a] as number) + (index[a] as number)) * element(a);
    heap.copyWithin(to, at, at + run);
    to += run;
    for (let a = cut - 1; a >= 0; a--) {
      index[a] = (index[a] as number) + 1;
      if ((index[a] as number) < (extent[a] as number)) break;
      index[a] = 0;
    }
  }
  return out;
};

export const sliceConfig: KernelConfig = { kernelName: Slice, backendName: 'wasm', kernelFunc: slice };
