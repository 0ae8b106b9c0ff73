// tfjs-backend-wasm's single-threaded builds define their memory; bnlab rewrites such a
// module to import a shared one, which worker threads can then share. Tested on a module
// written byte by byte here (a memory with a data segment, a load, an exported memory) and
// on tfjs's own SIMD build.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { definedMemoryAsSharedImport, MAX_PAGES } from '../../src/kernels/simd/shared_memory.js';

const str = (s: string) => [s.length, ...Buffer.from(s)];
const section = (id: number, body: number[]) => [id, body.length, ...body];

/** (func (export "get") (param i32) (result i32) (i32.load (local.get 0))), a 1-page memory with 42 at byte 16. */
function tinyModule(withImport: boolean): Uint8Array<ArrayBuffer> {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types = section(1, [2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 0, 0]);
  // An imported function (env.nop) so the import section exists and function indices shift.
  const imports = section(2, [1, ...str('env'), ...str('nop'), 0x00, 1]);
  const funcs = section(3, [1, 0]);
  const memory = section(5, [1, 0x00, 1]);
  const getIndex = withImport ? 1 : 0;
  const exports = section(7, [2, ...str('get'), 0x00, getIndex, ...str('memory'), 0x02, 0]);
  const body = [0, 0x20, 0, 0x28, 2, 0, 0x0b];
  const code = section(10, [1, body.length, ...body]);
  const data = section(11, [1, 0, 0x41, 16, 0x0b, 4, 42, 0, 0, 0]);
  return Uint8Array.from([...header, ...types, ...(withImport ? imports : []), ...funcs, ...memory, ...exports, ...code, ...data]);
}

describe.each([
  ['with an import section', true],
  ['without one', false],
])('definedMemoryAsSharedImport on a module %s', (_name, withImport) => {
  const original = tinyModule(withImport);
  const env: Record<string, () => undefined> = withImport ? { nop: () => undefined } : {};

  it('gives a valid module that runs on the shared memory it is given, data segments included', () => {
    expect(WebAssembly.validate(original)).toBe(true);
    const rewritten = definedMemoryAsSharedImport(original);
    expect(rewritten).not.toBeNull();
    const { bytes, initialPages } = rewritten as NonNullable<typeof rewritten>;
    expect(initialPages).toBe(1);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const module = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(module)).toContainEqual({ module: 'env', name: 'memory', kind: 'memory' });
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const exports = new WebAssembly.Instance(module, { env: { ...env, memory } }).exports as {
      get(p: number): number;
      memory: WebAssembly.Memory;
    };
    expect(exports.memory).toBe(memory);
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(exports.get(16)).toBe(42);
    new Int32Array(memory.buffer)[8] = 7; // byte 32
    expect(exports.get(32)).toBe(7);
    // An unshared memory no longer links.
    expect(() => new WebAssembly.Instance(module, { env: { ...env, memory: new WebAssembly.Memory({ initial: 1 }) } })).toThrow(
      WebAssembly.LinkError,
    );
  });
});

test('definedMemoryAsSharedImport returns null for modules without exactly one defined memory', () => {
  const noMemory = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  expect(definedMemoryAsSharedImport(noMemory)).toBeNull();
  expect(definedMemoryAsSharedImport(new Uint8Array(3))).toBeNull();
  const once = definedMemoryAsSharedImport(tinyModule(true));
  // Rewritten once, the module imports its memory: nothing left to rewrite.
  expect(definedMemoryAsSharedImport((once as NonNullable<typeof once>).bytes)).toBeNull();
});

test("tfjs-backend-wasm's SIMD build, rewritten, validates and imports a shared memory", () => {
  const require = createRequire(__filename);
  const dist = join(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'), '..', 'dist');
  const original = new Uint8Array(readFileSync(join(dist, 'tfjs-backend-wasm-simd.wasm')));
  const rewritten = definedMemoryAsSharedImport(original);
  expect(rewritten).not.toBeNull();
  const module = new WebAssembly.Module((rewritten as NonNullable<typeof rewritten>).bytes);
  const before = WebAssembly.Module.imports(new WebAssembly.Module(original));
  expect(WebAssembly.Module.imports(module)).toEqual([...before, { module: 'env', name: 'memory', kind: 'memory' }]);
  expect(WebAssembly.Module.exports(module)).toEqual(WebAssembly.Module.exports(new WebAssembly.Module(original)));
});
