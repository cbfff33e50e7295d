/** Three tiers: unit specs next to the code, and integration/e2e suites under test/ against real services. */
const moduleNameMapper = {
  '^@app/(core|config|persistence|messaging|platform|pairing|reply|jobs|streams|works|push|tunnels|testing)(|/.*)$': '<rootDir>/libs/$1/src$2',
};
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] };

module.exports = {
  testTimeout: 30000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/apps', '<rootDir>/libs'],
      testMatch: ['**/*.spec.ts'],
      moduleNameMapper,
      transform,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      moduleNameMapper,
      transform,
    },
    {
      displayName: 'resilience',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/test/resilience'],
      testMatch: ['**/*.resilience-spec.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      moduleNameMapper,
      transform,
    },
  ],
};
