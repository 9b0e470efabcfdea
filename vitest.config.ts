import { configDefaults, defineConfig } from 'vitest/config';
import { SummaryReporter } from './test/summary-reporter.ts';
import { CONFORMANCE_TESTS } from './test/tiers.ts';

// Two cores: two workers, each with its own moto server where a test needs one.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The corpus tier runs with `npm run test:conformance` (vitest.conformance.config.ts).
    exclude: [...configDefaults.exclude, ...CONFORMANCE_TESTS],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', new SummaryReporter()],
  },
});
