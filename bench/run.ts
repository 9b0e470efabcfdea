/**
 * `npm run bench`: dispatches to the benchmark named as the first argument (default: template).
 * Each benchmark writes its results to BENCHMARKS.md in the repository root.
 */
const BENCHMARKS: Record<string, () => Promise<unknown>> = {
  template: () => import('./template.ts'),
};

const name = process.argv[2] ?? 'template';
const run = BENCHMARKS[name];
if (!run) {
  process.stderr.write(`Unknown benchmark "${name}". Available: ${Object.keys(BENCHMARKS).join(', ')}\n`);
  process.exitCode = 1;
} else {
  await run();
}
