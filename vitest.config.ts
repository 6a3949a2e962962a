import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration and browser tests start real servers on free ports; files run in parallel.
    pool: 'forks',
  },
});
