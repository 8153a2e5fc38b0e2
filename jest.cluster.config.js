/**
 * The cluster suite (`npm run test:cluster`): one `npm run cluster` for the whole run, on free ports,
 * which the tests fault one process at a time, so the files run one after the other.
 * `CLUSTER_SERVICES=image` runs the API and the worker from the project's image instead.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // scripts/test-node26.sh keeps its copy of the tree under .tools/
  modulePathIgnorePatterns: ['<rootDir>/.tools/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testMatch: ['<rootDir>/test/cluster/**/*.cluster.test.ts'],
  globalSetup: '<rootDir>/test/cluster/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/support/global-teardown.ts',
  testTimeout: 600_000,
  maxWorkers: 1,
};
