/**
 * `npm run bench`: dispatches to the benchmark named as the first argument (default: template).
 * Each benchmark writes its results to BENCHMARKS.md in the repository root.
 */
const BENCHMARKS: Record<string, () => Promise<unknown>> = {
  template: () => import('./template.ts'),
  bundles: () => import('./bundles.ts'),
  agents: () => import('./agents.ts'),
  fleet: () => import('./fleet.ts'),
};

// No argument: all of them, template first (it rewrites the file; the others replace only their own section).
const names = process.argv[2] ? [process.argv[2]] : Object.keys(BENCHMARKS);
for (const name of names) {
  const run = BENCHMARKS[name];
  if (!run) {
    process.stderr.write(`Unknown benchmark "${name}". Available: ${Object.keys(BENCHMARKS).join(', ')}\n`);
    process.exitCode = 1;
    break;
  }
  await run();
}
