import { defineConfig } from 'vitest/config';
import { CONFORMANCE_TESTS } from './test/tiers.ts';
import base from './vitest.config.ts';

// `npm run test:conformance`: the tests that read the shared corpus (../shared or KILN_CORPUS); same settings as
// the main tier otherwise.
export default defineConfig({ test: { ...base.test, include: CONFORMANCE_TESTS, exclude: [] } });
