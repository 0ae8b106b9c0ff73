// bnlab's SIMD module on a shared memory, as tfjs-backend-wasm's threaded build (cross-origin-
// isolated pages) has one: the original module cannot link to it, the shared variant can, and
// its kernels compute there what they compute on an unshared memory.
import { MAX_PAGES, withSharedMemory } from '../../src/kernels/simd/shared_memory.js';
import { simdFor } from '../../src/kernels/simd/simd_module.js';
import { RELAXED_SIMD_WASM_BASE64, SIMD_WASM_BASE64 } from '../../src/kernels/simd/simd_wasm_bytes.js';
import type { SimdExports } from '../../src/kernels/simd/simd_module.js';
import type { WasmBackendLike } from '../../src/kernels/wasm_backend.js';

const bytes = (base64: string) => new Uint8Array(Buffer.from(base64, 'base64'));

/** A stand-in for the threaded backend: its memory in `wasm.wasmMemory`, a bump allocator. */
function threadedBackend(memory: WebAssembly.Memory): WasmBackendLike {
  let top = 1024;
  return {
    wasm: {
      wasmMemory: memory,
      get HEAPF32() {
        return new Float32Array(memory.buffer);
      },
      _malloc: (n: number) => {
        const at = top;
        top += (n + 15) & ~15;
        return at;
      },
      _free: () => undefined,
    },
  } as unknown as WasmBackendLike;
}

describe.each([
  ['plain SIMD', SIMD_WASM_BASE64],
  ['relaxed SIMD', RELAXED_SIMD_WASM_BASE64],
])('the %s module', (_name, base64) => {
  const original = bytes(base64);
  // The relaxed build compiles only where V8's relaxed SIMD is on (the `relaxed` test project).
  const compiles = WebAssembly.validate(original);
  const maybe = compiles ? it : it.skip;

  maybe('links to a shared memory only in its shared variant, which is valid and keeps every export', () => {
    const shared = new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES, shared: true });
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(original), { env: { memory: shared } })).toThrow(WebAssembly.LinkError);

    const variant = withSharedMemory(original);
    expect(WebAssembly.validate(variant)).toBe(true);
    const module = new WebAssembly.Module(variant);
    expect(WebAssembly.Module.exports(module)).toEqual(WebAssembly.Module.exports(new WebAssembly.Module(original)));
    expect(() => new WebAssembly.Instance(module, { env: { memory: shared } })).not.toThrow();
    // …and, like any module importing a shared memory, no longer links to an unshared one.
    expect(() => new WebAssembly.Instance(module, { env: { memory: new WebAssembly.Memory({ initial: 2 }) } })).toThrow(
      WebAssembly.LinkError,
    );
    // Only the import's limits differ: 0x00 min  →  0x03 min max (65536 = 80 80 04).
    expect(variant.length).toBe(original.length + 3);
  });

  maybe('runs its kernels on the shared memory (relu gradient, column sums: closed-form values)', () => {
    const memory = new WebAssembly.Memory({ initial: 4, maximum: MAX_PAGES, shared: true });
    const k = new WebAssembly.Instance(new WebAssembly.Module(withSharedMemory(original)), { env: { memory } })
      .exports as unknown as SimdExports;
    const f = new Float32Array(memory.buffer);
    const n = 37; // not a multiple of the SIMD width
    const [dy, x, out] = [4096, 8192, 12288];
    for (let i = 0; i < n; i++) {
      f[dy / 4 + i] = i + 1;
      f[x / 4 + i] = i % 3 === 0 ? -1 : 0.5;
    }
    k.reluGrad(dy, x, n, out);
    for (let i = 0; i < n; i++) expect(f[out / 4 + i]).toBe(i % 3 === 0 ? 0 : i + 1);

    // A 5×3 matrix of row r, column c = r + 10c, shifted by s = (1, 1, 1): column sums of
    // x − s are 5 + 50c, scaled by 1/5 the column means minus 1.
    const [m, shift, sums, work] = [16384, 20480, 24576, 28672];
    for (let r = 0; r < 5; r++) for (let c = 0; c < 3; c++) f[m / 4 + r * 3 + c] = r + 10 * c;
    f.fill(1, shift / 4, shift / 4 + 3);
    k.colSum(m, shift, 5, 3, sums, 1 / 5, work);
    expect(Array.from(f.subarray(sums / 4, sums / 4 + 3))).toEqual([1, 11, 21]);
  });
});

test('simdFor binds the kernels to the memory of the threaded build (wasm.wasmMemory, shared)', () => {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: MAX_PAGES, shared: true });
  const k = simdFor(threadedBackend(memory));
  expect(k).not.toBeNull();
  const f = new Float32Array(memory.buffer);
  f.set([-2, 3, 0, 5], 1024);
  f.set([1, 1, 1, 1], 2048);
  (k as SimdExports).reluGrad(2048 * 4, 1024 * 4, 4, 3072 * 4);
  expect(Array.from(f.subarray(3072, 3076))).toEqual([0, 1, 0, 1]);
  // The same memory gets the same instance.
  expect(simdFor(threadedBackend(memory))).toBe(k);
});

test('simdFor returns null (tfjs’s kernels then run) when the module cannot be bound to a memory, and does not retry', () => {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: MAX_PAGES, shared: true });
  const spy = jest.spyOn(WebAssembly, 'Instance').mockImplementation(() => {
    throw new WebAssembly.LinkError('memory import has no maximum length');
  });
  try {
    expect(simdFor(threadedBackend(memory))).toBeNull();
    expect(simdFor(threadedBackend(memory))).toBeNull();
    expect(spy).toHaveBeenCalledTimes(1);
  } finally {
    spy.mockRestore();
  }
});

test('withSharedMemory rejects a module that imports no memory', () => {
  // The smallest valid module: magic and version only.
  expect(() => withSharedMemory(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))).toThrow(/imports no memory/);
});
