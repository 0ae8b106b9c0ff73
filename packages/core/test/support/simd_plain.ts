// Jest setup of the `simd` project: V8 without relaxed SIMD, so bnlab's plain SIMD build
// runs. (V8 flags are per process and jest reuses workers across projects: each test file
// sets the state it needs before any module is compiled.) Should a Node release ship relaxed
// SIMD without the flag to turn it off, the tests expect the relaxed build here too.
import { setFlagsFromString } from 'node:v8';
import { relaxedSimdSupported } from '../../src/kernels/simd/simd_module.js';

setFlagsFromString('--no-experimental-wasm-relaxed-simd');
process.env.BNLAB_TEST_SIMD_KERNELS = relaxedSimdSupported() ? 'relaxed' : 'simd';
