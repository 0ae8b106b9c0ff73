// bnlab's SIMD kernels for the tfjs wasm backend, in AssemblyScript (compiled by
// `npm run build:simd` with --enable simd --importMemory --runtime stub).
//
// The module imports the wasm backend's own memory and works in place on its tensors: every
// argument named like a tensor is a byte offset into that memory. It has no data segments,
// no globals that point into memory and never allocates: callers pass scratch space (from
// the backend's malloc) where a kernel needs it. All float data is float32, row-major.
//
// One file per kernel family; this file only lists what the module exports (the TypeScript
// interface the kernels are called through, src/kernels/simd/simd_exports.ts, is generated
// from these signatures by scripts/build-simd.mjs).

export { colSum, colSum2, colMoments, affine } from './column_sums';
export { maxPoolGrad, maxPool2x2, maxPoolGrad2x2 } from './max_pool';
export { col2im } from './col2im';
export { im2colPacked, im2colPackedT } from './patches';
export { packA, packB, gemmPacked, gemmStrided, gemmBatch } from './gemm';
export { biasRelu, reluGrad } from './bias_relu';
export { padPlanes, convFew3, convFew3Grad } from './few_channel_conv';
export { groupNorm, groupNormGrad } from './group_norm';
export { adamStep, momentumStep } from './optimizers';
export { spreadRows } from './spread_rows';
export { winoFilter, winoFilterGrad, winoInput, winoOutput, winoGradOutput, winoGradInput } from './winograd';
