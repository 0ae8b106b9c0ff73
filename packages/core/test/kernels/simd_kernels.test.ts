/**
 * The two builds of bnlab's SIMD module: the jest project decides which one the engine
 * accepts (`simd`: V8 without relaxed SIMD, `relaxed`: with it), and `relaxedSimd: false`
 * keeps the plain build even where relaxed SIMD is available.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { relaxedSimdSupported, simdKernels } from '../../src/kernels/simd/simd_module.js';

const expected = process.env.BNLAB_TEST_SIMD_KERNELS;

/** x64 CPUs with FMA3 (where V8 turns relaxed_madd into one fused instruction). */
function cpuHasFma(): boolean {
  if (process.arch !== 'x64') return false;
  try {
    return /\bfma\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * (-(1 + 2⁻¹¹)) · 1 + (1 + 2⁻¹²)²: the exact value is 2⁻²⁴, but (1 + 2⁻¹²)² rounded to
 * float32 is 1 + 2⁻¹¹, so a multiply then an add gives 0 and a fused multiply-add 2⁻²⁴.
 * Through BatchMatMul with a transposed operand, which bnlab's GEMM computes.
 */
function fmaProbe(): number {
  const a = tf.tensor2d([[1, 1 + 2 ** -12]]);
  const bT = tf.tensor2d([[-(1 + 2 ** -11), 1 + 2 ** -12]]);
  const c = tf.matMul(a, bT, false, true);
  const v = c.dataSync()[0] as number;
  tf.dispose([a, bT, c]);
  return v;
}

describe('bnlab SIMD kernel builds', () => {
  it('runs the build this engine accepts and reports it', async () => {
    expect(expected === 'simd' || expected === 'relaxed').toBe(true);
    const info = await initBackend({ strict: true });
    expect(relaxedSimdSupported()).toBe(expected === 'relaxed');
    expect(info.simdKernels).toBe(expected);
    expect(simdKernels()).toBe(expected);
  });

  it('multiplies then adds in the plain build, fuses where the CPU can in the relaxed one', async () => {
    await initBackend({ strict: true });
    const fused = 2 ** -24;
    if (expected === 'simd') {
      expect(fmaProbe()).toBe(0);
    } else {
      // Relaxed SIMD lets an engine compute either way; V8 on x64 fuses when the CPU has FMA.
      expect(fmaProbe()).toBe(cpuHasFma() ? fused : fmaProbe());
      expect([0, fused]).toContain(fmaProbe());
    }
  });

  it('keeps the plain build when relaxedSimd is false, and goes back on request', async () => {
    const plain = await initBackend({ strict: true, relaxedSimd: false });
    expect(plain.simdKernels).toBe('simd');
    expect(fmaProbe()).toBe(0);
    const again = await initBackend({ strict: true });
    expect(again.simdKernels).toBe(expected);
  });

  it('reports no bnlab kernels on the cpu backend', async () => {
    const info = await initBackend({ backend: 'cpu' });
    expect(info.simdKernels).toBeNull();
  });
});
