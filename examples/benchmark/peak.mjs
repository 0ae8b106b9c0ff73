// This CPU's peak WebAssembly SIMD multiply-add rate on one thread (issue 21, item 3): compiles
// peak.ts (AssemblyScript) with plain SIMD and with relaxed SIMD, as bnlab's kernels are built,
// and times its register-only loops of independent multiply-adds (or multiplies and adds);
// the best loop is the peak. Used by
// kernels.mjs --peak; alone: `node peak.mjs`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import asc from 'assemblyscript/asc';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
/** The functions of peak.ts: name, floating-point operations per iteration, b and c. */
const LOOPS = [
  ...[8, 10, 12].map((n) => ({ name: `madd${n}`, flops: n * 8, b: 0.999, c: 0.001 })),
  ...[8, 12].map((n) => ({ name: `mixed${n}`, flops: n * 4, b: -1, c: 0.001 })),
];

async function compile(features) {
  const tmp = mkdtempSync(join(tmpdir(), 'bnlab-peak-'));
  try {
    const outFile = join(tmp, 'peak.wasm');
    const { error, stderr } = await asc.main([
      fileURLToPath(new URL('./peak.ts', import.meta.url)),
      '--outFile',
      outFile,
      '-O3',
      '--runtime',
      'stub',
      '--noAssert',
      ...features.flatMap((f) => ['--enable', f]),
    ]);
    if (error) throw new Error(`peak.ts: ${stderr.toString()}`);
    return readFileSync(outFile);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** GFLOP/s of one loop of peak.ts: the best of `rounds` timings of about `seconds` each. */
function rate(exports, loop, { rounds = 5, seconds = 0.15 } = {}) {
  const fn = (iters) => exports[loop.name](iters, loop.b, loop.c);
  fn(100_000); // compiled by TurboFan before timing
  let iters = 1_000_000;
  for (;;) {
    const t0 = performance.now();
    fn(iters);
    const ms = performance.now() - t0;
    if (ms > seconds * 500) {
      iters = Math.ceil((iters * seconds * 1000) / ms);
      break;
    }
    iters *= 4;
  }
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn(iters);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (iters * loop.flops) / s / 1e9);
  }
  return best;
}

/**
 * The peak of each build: `{ simd, relaxed }`, each `{ gflops, loop, byLoop }` (the best loop
 * and every loop's GFLOP/s; relaxed is null where the engine rejects relaxed SIMD). A
 * multiply-add counts as 2 FLOPs.
 */
export async function measurePeak(options) {
  const out = {};
  for (const [build, features] of [
    ['simd', ['simd']],
    ['relaxed', ['simd', 'relaxed-simd']],
  ]) {
    let instance;
    try {
      instance = new WebAssembly.Instance(new WebAssembly.Module(await compile(features)), {
        env: {
          abort() {
            throw new Error('abort');
          },
        },
      });
    } catch (e) {
      if (build === 'relaxed') {
        out[build] = null;
        continue;
      }
      throw e;
    }
    const byLoop = Object.fromEntries(LOOPS.map((loop) => [loop.name, +rate(instance.exports, loop, options).toFixed(2)]));
    const [loop, gflops] = Object.entries(byLoop).sort((a, b) => b[1] - a[1])[0];
    out[build] = { gflops, loop, byLoop };
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const peak = await measurePeak();
  console.log(
    'WebAssembly SIMD peak, one thread (GFLOP/s, a multiply-add counted as 2; maddN: N chains of a·b + c, mixedN: N/2 of a·b and N/2 of a + c):',
  );
  console.table(
    Object.fromEntries(
      Object.entries(peak)
        .filter(([, v]) => v)
        .map(([k, v]) => [k, { peak: v.gflops, best: v.loop, ...v.byLoop }]),
    ),
  );
}
