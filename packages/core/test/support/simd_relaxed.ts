// Jest setup of the `relaxed` project: V8 with relaxed SIMD (Node 20 has it behind a
// flag), so bnlab's relaxed-SIMD build runs.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--experimental-wasm-relaxed-simd');
process.env.BNLAB_TEST_SIMD_KERNELS = 'relaxed';
