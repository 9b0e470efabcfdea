/**
 * Generated Markdown (REPORT.md, BENCHMARKS.md) goes through the repository's formatter so `npm run lint`
 * stays clean without hand-aligning table columns here.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

export function formatMarkdownFile(path: string): void {
  const biome = join(REPO_ROOT, 'node_modules/.bin/biome');
  const run = spawnSync(biome, ['format', '--write', path], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (run.status !== 0) process.stderr.write(`biome format failed on ${path}: ${run.stderr}\n`);
}
