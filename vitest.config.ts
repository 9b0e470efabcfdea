import { defineConfig } from 'vitest/config';

// Two cores: two workers, each with its own moto server where a test needs one.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
