// Shared jest settings for every package: TypeScript through ts-jest, and workspace
// packages resolved to their sources so tests never need a prior build.
const path = require('node:path');

/** @param {string} dir the package folder (its __dirname) */
module.exports = function jestConfig(dir, overrides = {}) {
  return {
    rootDir: dir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/src/**/*.test.ts'],
    transform: {
      '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(dir, 'tsconfig.test.json'), diagnostics: false }],
    },
    moduleNameMapper: {
      '^@bnlab/([a-z-]+)$': path.join(__dirname, 'packages/$1/src/index.ts'),
      '^@bnlab/([a-z-]+)/node$': path.join(__dirname, 'packages/$1/src/node.ts'),
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    setupFiles: [path.join(__dirname, 'test-support/quiet_console.ts')],
    testTimeout: 60000,
    passWithNoTests: true,
    ...overrides,
  };
};
