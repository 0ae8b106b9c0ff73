// Jest setup of the `simd` project: V8 without relaxed SIMD, so bnlab's plain SIMD build
// runs. (V8 flags are per process and jest reuses workers across projects: each test file
// sets the state it needs before any module is compiled.)
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-experimental-wasm-relaxed-simd');
process.env.BNLAB_TEST_SIMD_KERNELS = 'simd';
