/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // scripts/test-node26.sh keeps its copy of the tree under .tools/
  modulePathIgnorePatterns: ['<rootDir>/.tools/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // the cluster suite runs on its own system: jest.cluster.config.js (npm run test:cluster)
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/'],
  setupFiles: ['<rootDir>/test/support/quiet-temporal.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120_000,
  // Two cores: the Temporal dev server, the Java test server and nats-server share them with jest.
  maxWorkers: 2,
};
