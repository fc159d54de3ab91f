// Jest runs in native ESM mode (NestJS 12 is ESM-only); workspace packages map to their TS sources
// so tests need no build first.
const path = require('node:path');
module.exports = function preset(projectDir) {
  return {
    rootDir: projectDir,
    testEnvironment: 'node',
    cacheDirectory: path.join(__dirname, 'node_modules/.cache/jest'),
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    extensionsToTreatAsEsm: ['.ts'],
    moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
    moduleNameMapper: {
      '^@dominion/([a-z0-9-]+)$': path.join(__dirname, 'libs/$1/src/index.ts'),
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: {
            parser: { syntax: 'typescript', decorators: true },
            transform: { legacyDecorator: true, decoratorMetadata: true },
            target: 'es2022',
            keepClassNames: true,
          },
          module: { type: 'es6' },
          sourceMaps: 'inline',
        },
      ],
    },
    testTimeout: 30000,
    // A leaked handle after a failure must not hang CI for its whole budget.
    forceExit: true,
  };
};

/** Benchmarks run through the same transform: `<project>/bench/*.bench.ts`, one at a time, never in CI. */
module.exports.bench = function benchPreset(projectDir) {
  return {
    ...module.exports(projectDir),
    testMatch: ['<rootDir>/bench/**/*.bench.ts'],
    testTimeout: 600000,
  };
};
