/**
 * The largest memory a wasm32 module can address, in 64 KiB pages. tfjs-backend-wasm's
 * threaded build creates its shared memory with this maximum.
 */
export const MAX_PAGES = 65536;

const IMPORT_SECTION = 2;
const MEMORY_KIND = 2;

/** Unsigned LEB128 encoding. */
function leb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** A cursor over a module's bytes that reads unsigned LEB128 numbers. */
class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    public at: number,
  ) {}

  u32(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (this.at >= this.bytes.length) throw new Error('bnlab: truncated WebAssembly module');
      const byte = this.bytes[this.at++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7;
    }
  }

  skipName(): void {
    const n = this.u32();
    this.at += n;
  }
}

/**
 * The same module with its imported memory declared shared (maximum {@link MAX_PAGES}), so
 * that it can be instantiated on the memory of tfjs-backend-wasm's threaded build (a
 * `SharedArrayBuffer`, used in cross-origin-isolated pages). A module cannot import a
 * shared memory as an unshared one or the reverse, so bnlab's kernels need both forms; only
 * the import's limits change (the code does not use atomics: it runs on the calling thread).
 * Throws when the module imports no memory.
 */
export function withSharedMemory(module: Uint8Array): Uint8Array<ArrayBuffer> {
  const r = new Reader(module, 8);
  while (r.at < module.length) {
    const id = module[r.at++] as number;
    const sizeAt = r.at;
    const size = r.u32();
    const start = r.at;
    const end = start + size;
    if (id !== IMPORT_SECTION) {
      r.at = end;
      continue;
    }
    // The module's only import is its memory (the build checks): the first import is it.
    if (r.u32() === 0) break;
    r.skipName();
    r.skipName();
    const kind = module[r.at++] as number;
    if (kind !== MEMORY_KIND) {
      // Functions (a type index), tables (type and limits) and globals (type and
      // mutability) never appear in bnlab's module, which imports only its memory.
      throw new Error(`bnlab: unexpected import of kind ${kind} in the SIMD module`);
    }
    const limitsAt = r.at;
    const flags = module[r.at++] as number;
    const min = r.u32();
    if (flags & 1) r.u32();
    const limits = [0x03, ...leb(min), ...leb(MAX_PAGES)];
    const body = [...module.subarray(start, limitsAt), ...limits, ...module.subarray(r.at, end)];
    const out = new Uint8Array(new ArrayBuffer(sizeAt + leb(body.length).length + body.length + (module.length - end)));
    out.set(module.subarray(0, sizeAt), 0);
    out.set(leb(body.length), sizeAt);
    out.set(body, sizeAt + leb(body.length).length);
    out.set(module.subarray(end), sizeAt + leb(body.length).length + body.length);
    return out;
  }
  throw new Error('bnlab: the SIMD module imports no memory');
}

const MEMORY_SECTION = 5;

interface Section {
  id: number;
  /** Offset of the section's id byte, of its body, and one past its end. */
  start: number;
  body: number;
  end: number;
}

function sections(module: Uint8Array): Section[] {
  const out: Section[] = [];
  const r = new Reader(module, 8);
  while (r.at < module.length) {
    const start = r.at;
    const id = module[r.at++] as number;
    const size = r.u32();
    out.push({ id, start, body: r.at, end: r.at + size });
    r.at += size;
  }
  return out;
}

function utf8Name(name: string): number[] {
  const bytes = [...new TextEncoder().encode(name)];
  return [...leb(bytes.length), ...bytes];
}

/**
 * A module that defines its own memory (tfjs-backend-wasm's single-threaded builds) rewritten
 * to import it instead, shared, as `env.memory`: its memory section is dropped and an import
 * with the same initial size and a maximum of {@link MAX_PAGES} is appended to its imports.
 * The memory's index stays 0 (imported memories come first, and the module had only one),
 * so its code, data segments and `memory` export are unchanged. The result runs on a
 * `WebAssembly.Memory({ shared: true })` that worker threads can share. Returns null when the
 * module does not define exactly one memory.
 */
export function definedMemoryAsSharedImport(module: Uint8Array): { bytes: Uint8Array<ArrayBuffer>; initialPages: number } | null {
  if (module.length < 8) return null;
  const all = sections(module);
  const memory = all.filter((s) => s.id === MEMORY_SECTION);
  if (memory.length !== 1) return null;
  const mem = memory[0] as Section;
  const r = new Reader(module, mem.body);
  if (r.u32() !== 1) return null;
  const flags = module[r.at++] as number;
  if (flags & 2) return null; // already shared
  const initialPages = r.u32();
  const entry = [...utf8Name('env'), ...utf8Name('memory'), MEMORY_KIND, 0x03, ...leb(initialPages), ...leb(MAX_PAGES)];
  const imports = all.find((s) => s.id === IMPORT_SECTION);
  let importBody: number[];
  if (imports) {
    const ir = new Reader(module, imports.body);
    const count = ir.u32();
    importBody = [...leb(count + 1), ...module.subarray(ir.at, imports.end), ...entry];
  } else {
    importBody = [...leb(1), ...entry];
  }
  const importSection = [IMPORT_SECTION, ...leb(importBody.length), ...importBody];
  const parts: Uint8Array[] = [module.subarray(0, 8)];
  let placed = false;
  for (const s of all) {
    if (s.id === MEMORY_SECTION) continue;
    if (s.id === IMPORT_SECTION) {
      parts.push(Uint8Array.from(importSection));
      placed = true;
      continue;
    }
    // Without an import section, it goes before the first section that must follow it
    // (function, table, memory, … — ids 3 and up; custom sections, id 0, may sit anywhere).
    if (!placed && s.id >= 3) {
      parts.push(Uint8Array.from(importSection));
      placed = true;
    }
    parts.push(module.subarray(s.start, s.end));
  }
  if (!placed) parts.push(Uint8Array.from(importSection));
  const out = new Uint8Array(new ArrayBuffer(parts.reduce((n, p) => n + p.length, 0)));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { bytes: out, initialPages };
}
