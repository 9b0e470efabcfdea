/**
 * Which test files need the external conformance corpus (../shared, or KILN_CORPUS): they form their own tier,
 * `npm run test:conformance` (CI runs it too), so `npm test` works on a fresh clone with nothing beside it and
 * never skips anything silently.
 */
export const CONFORMANCE_TESTS = [
  'test/conformance/**/*.test.ts',
  'test/unit/template/json/corpus.test.ts',
  'test/unit/template/hcl/corpus.test.ts',
];
