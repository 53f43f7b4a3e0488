import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    // One real PostgreSQL for the whole run (the store's tests run on both engines).
    globalSetup: ['test/pg/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores on CI: end-to-end files spawn processes and servers, so keep the fan-out modest.
    maxWorkers: 2,
  },
});
