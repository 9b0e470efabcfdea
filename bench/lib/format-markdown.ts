/**
 * Generated Markdown (REPORT.md, BENCHMARKS.md) goes through the repository's formatter so `npm run lint`
 * stays clean without hand-aligning table columns here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

export function formatMarkdownFile(path: string): void {
  const biome = join(REPO_ROOT, 'node_modules/.bin/biome');
  const run = spawnSync(biome, ['format', '--write', path], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (run.status !== 0) process.stderr.write(`biome format failed on ${path}: ${run.stderr}\n`);
}

/** Replaces the text between `start` and `end` markers of BENCHMARKS.md (or appends it), leaving the rest alone. */
export function writeMarkedSection(
  section: string,
  markers: { readonly start: string; readonly end: string },
  file = join(REPO_ROOT, 'BENCHMARKS.md'),
): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = text.indexOf(markers.start);
  const end = text.indexOf(markers.end);
  const next =
    start >= 0 && end > start
      ? `${text.slice(0, start)}${section}${text.slice(end + markers.end.length)}`
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  formatMarkdownFile(file);
}
