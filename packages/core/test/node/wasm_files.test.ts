import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyWasmFiles, TFJS_WASM_FILES, tfjsWasmFolder } from '../../src/node/wasm_files.js';

let temp: string;
beforeAll(() => {
  temp = mkdtempSync(join(tmpdir(), 'bnlab-wasm-files-'));
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('copyWasmFiles', () => {
  it("copies tfjs-backend-wasm's three binaries, byte for byte, into a folder it makes", async () => {
    const dir = join(temp, 'public', 'tfjs-wasm');
    const written = await copyWasmFiles(dir);
    expect(written).toEqual(TFJS_WASM_FILES.map((f) => join(dir, f)));
    expect(readdirSync(dir).sort()).toEqual([...TFJS_WASM_FILES].sort());
    // The folder is the one the tfjs package resolves its own binaries from.
    const source = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
    expect(join(tfjsWasmFolder(), 'tfjs-backend-wasm-simd.wasm')).toBe(source);
    for (const f of TFJS_WASM_FILES) {
      const bytes = readFileSync(join(dir, f));
      expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d])); // "\0asm"
      expect(bytes.equals(readFileSync(join(tfjsWasmFolder(), f)))).toBe(true);
    }
  });

  it('fails with IO_ERROR naming the folder or file it could not write, leaving no partial file', async () => {
    const file = join(temp, 'not-a-folder');
    writeFileSync(file, 'x');
    await expect(copyWasmFiles(join(file, 'wasm'))).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringMatching(/^could not make the folder .*not-a-folder\/wasm for the \.wasm files: ENOTDIR/),
    });
    // A folder where the second binary should go: its copy cannot be renamed into place.
    const dir = join(temp, 'blocked');
    mkdirSync(join(dir, 'tfjs-backend-wasm-simd.wasm', 'inside'), { recursive: true });
    await expect(copyWasmFiles(dir)).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringMatching(/^could not copy tfjs-backend-wasm-simd\.wasm from .* to .*blocked: /),
    });
    expect(readdirSync(dir).sort()).toEqual(['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm']);
  });
});
