// Two runs of the tests: `simd` with V8's relaxed SIMD turned off, so bnlab's plain SIMD
// build runs (as on Node 20 and Safari), and `relaxed` with it on, so the relaxed-SIMD
// build (fused multiply-add) runs the kernel, op and training tests too.
const { testTimeout, passWithNoTests, ...base } = require('../../jest.preset.cjs')(__dirname);

module.exports = {
  testTimeout,
  passWithNoTests,
  projects: [
    { ...base, displayName: 'simd', setupFiles: [...base.setupFiles, '<rootDir>/test/support/simd_plain.ts'] },
    {
      ...base,
      displayName: 'relaxed',
      setupFiles: [...base.setupFiles, '<rootDir>/test/support/simd_relaxed.ts'],
      testMatch: [
        '<rootDir>/test/kernels/**/*.test.ts',
        '<rootDir>/test/ops/**/*.test.ts',
        '<rootDir>/test/training/**/*.test.ts',
        '<rootDir>/test/optimizers/**/*.test.ts',
      ],
    },
  ],
};
