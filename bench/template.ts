/**
 * Template benchmark over the shared conformance corpus:
 * - in-process: loadTemplate (parse + variables + validation) and planTemplate per case, median of N runs
 *   after one warm-up (KILN_BENCH_RUNS, default 15);
 * - whole processes on the JSON cases: `kiln validate` (bin/kiln.js, as a user runs it) against Debian's
 *   `packer validate` 1.6.6 with the same arguments from the same directory, median of M runs
 *   (KILN_BENCH_PROCESS_RUNS, default 3), and their ratio.
 * Results go to BENCHMARKS.md with the machine and the date. No test asserts on these timings.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, type as osType, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveFrom, toLoadOptions } from '../cli/load-inputs.ts';
import { planTemplate } from '../core/plan/plan.ts';
import { hasErrors } from '../core/template/diagnostics.ts';
import { loadTemplate } from '../core/validation/load.ts';
import { type CorpusCase, loadManifest, prepareCase, REPO_ROOT, validateArgs } from './lib/corpus-cases.ts';
import { formatMarkdownFile } from './lib/format-markdown.ts';
import { packerBinary, packerEnv, packerVersion } from './lib/packer.ts';
import { median, ms, timeMedian } from './stats.ts';

const RUNS = Number(process.env.KILN_BENCH_RUNS ?? 15);
const PROCESS_RUNS = Number(process.env.KILN_BENCH_PROCESS_RUNS ?? 3);

interface Row {
  readonly id: string;
  readonly format: string;
  readonly bytes: number;
  readonly loadMs: number;
  readonly planMs: number;
  readonly kilnProcessMs?: number;
  readonly packerProcessMs?: number;
}

function entryBytes(c: CorpusCase): number {
  return c.files.reduce((sum, f) => sum + statSync(join(REPO_ROOT, '../shared/corpus', f)).size, 0);
}

function vars(c: CorpusCase): [string, string][] {
  return Object.entries(c.vars ?? {});
}

async function inProcess(c: CorpusCase, cwd: string): Promise<Pick<Row, 'loadMs' | 'planMs'>> {
  const request = {
    path: c.entry_arg,
    vars: vars(c),
    varFiles: validateArgs(c)
      .filter((a) => a.startsWith('-var-file='))
      .map((a) => a.slice('-var-file='.length)),
    only: (c.args ?? []).filter((a) => a.startsWith('-only=')).flatMap((a) => a.slice(6).split(',')),
    except: (c.args ?? []).filter((a) => a.startsWith('-except=')).flatMap((a) => a.slice(8).split(',')),
    now: new Date(0),
  };
  const path = resolveFrom(cwd, request.path);
  const options = toLoadOptions(request, { cwd, env: {} });
  const first = await loadTemplate(path, options); // warm-up, and the template the plan timing uses
  const loadMs = await timeMedian(RUNS, () => loadTemplate(path, options));
  const template = first.template;
  const planMs =
    template && !hasErrors(first.diagnostics)
      ? await timeMedian(RUNS, () => planTemplate(template, { now: new Date(0) }))
      : Number.NaN;
  return { loadMs, planMs };
}

function processMedian(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): number {
  const samples: number[] = [];
  for (let i = 0; i < PROCESS_RUNS; i++) {
    const start = performance.now();
    spawnSync(command, args, { cwd, env, stdio: 'ignore', timeout: 120_000 });
    samples.push(performance.now() - start);
  }
  return median(samples);
}

function machine(packer: string): string {
  const cpu = cpus();
  return [
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${osType()} ${release()}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (shared with other jobs)`,
    `- Node ${process.version}; packer ${packer} (Debian)`,
    `- In-process: median of ${RUNS} runs after one warm-up. Whole process: median of ${PROCESS_RUNS} runs.`,
  ].join('\n');
}

async function main(): Promise<void> {
  const cases = loadManifest();
  const scratch = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  const packer = packerBinary();
  const kilnBin = join(REPO_ROOT, 'bin/kiln.js');
  const rows: Row[] = [];
  try {
    for (const c of cases) {
      const prepared = prepareCase(c, scratch);
      const timing = await inProcess(c, prepared.cwd);
      let processes: Pick<Row, 'kilnProcessMs' | 'packerProcessMs'> = {};
      if (c.format === 'json') {
        const args = ['validate', ...validateArgs(c)];
        processes = {
          kilnProcessMs: processMedian(process.execPath, [kilnBin, ...args], prepared.cwd, {
            ...packerEnv(),
            NO_COLOR: '1',
          }),
          packerProcessMs: processMedian(packer, args, prepared.cwd, packerEnv()),
        };
      }
      rows.push({ id: c.id, format: c.format, bytes: entryBytes(c), ...timing, ...processes });
      process.stderr.write(`${c.id}: load ${ms(timing.loadMs)} ms, plan ${ms(timing.planMs)} ms\n`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  // Where a Kiln process's time goes: bare Node start-up, then start-up plus loading the CLI bundle.
  const baseline: Baseline = {
    nodeMs: processMedian(process.execPath, ['-e', ''], REPO_ROOT, packerEnv()),
    kilnHelpMs: processMedian(process.execPath, [kilnBin, '--help'], REPO_ROOT, packerEnv()),
    packerVersionMs: processMedian(packer, ['version'], REPO_ROOT, packerEnv()),
  };
  const output = join(REPO_ROOT, 'BENCHMARKS.md');
  writeFileSync(output, render(rows, baseline, machine(packerVersion(packer))) + keptSections(output));
  formatMarkdownFile(output);
  process.stderr.write('Wrote BENCHMARKS.md\n');
}

/** Sections other benchmarks own (bench/bundles.ts), kept when this one rewrites the file. */
function keptSections(file: string): string {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = text.indexOf('<!-- bundles:start -->');
  const endMarker = '<!-- bundles:end -->';
  const end = text.indexOf(endMarker);
  return start >= 0 && end > start ? `\n${text.slice(start, end + endMarker.length)}\n` : '';
}

interface Baseline {
  readonly nodeMs: number;
  readonly kilnHelpMs: number;
  readonly packerVersionMs: number;
}

function render(rows: readonly Row[], baseline: Baseline, machineText: string): string {
  const processRows = rows.filter((r) => r.kilnProcessMs !== undefined && r.packerProcessMs !== undefined);
  const kilnTotal = processRows.reduce((s, r) => s + (r.kilnProcessMs ?? 0), 0);
  const packerTotal = processRows.reduce((s, r) => s + (r.packerProcessMs ?? 0), 0);
  const ratios = processRows.map((r) => (r.kilnProcessMs ?? 0) / (r.packerProcessMs ?? 1));
  const lines = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench` (bench/template.ts) over the conformance corpus (../shared/corpus). Do not edit by hand.',
    '',
    machineText,
    '',
    '## Template engine, in process',
    '',
    `Median load (parse + variables + validation) over all ${rows.length} cases: ${ms(median(rows.map((r) => r.loadMs)))} ms; ` +
      `median plan: ${ms(median(rows.map((r) => r.planMs).filter(Number.isFinite)))} ms (plan only for cases that validate).`,
    '',
    '## `kiln validate` vs `packer validate` 1.6.6, whole processes, JSON cases',
    '',
    `${processRows.length} JSON cases. Sum of medians: kiln ${ms(kilnTotal)} ms, packer ${ms(packerTotal)} ms; ` +
      `ratio kiln/packer: ${(kilnTotal / packerTotal).toFixed(2)} overall, median per case ${median(ratios).toFixed(2)}. ` +
      'A Kiln process pays Node start-up plus loading the CLI bundle (dist/kiln.mjs, built by the setup step); packer is one Go binary.',
    '',
    `Start-up baselines (median of ${PROCESS_RUNS}): \`node -e ""\` ${ms(baseline.nodeMs)} ms; ` +
      `\`kiln --help\` (Node + the CLI bundle, no template) ${ms(baseline.kilnHelpMs)} ms; ` +
      `\`packer version\` ${ms(baseline.packerVersionMs)} ms. The template work itself is the in-process column.`,
    '',
    '| case | format | bytes | load ms | plan ms | kiln process ms | packer process ms | kiln/packer |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) =>
      [
        r.id,
        r.format,
        String(r.bytes),
        ms(r.loadMs),
        ms(r.planMs),
        r.kilnProcessMs === undefined ? '-' : ms(r.kilnProcessMs),
        r.packerProcessMs === undefined ? '-' : ms(r.packerProcessMs),
        r.kilnProcessMs === undefined || r.packerProcessMs === undefined
          ? '-'
          : (r.kilnProcessMs / r.packerProcessMs).toFixed(2),
      ]
        .join(' | ')
        .replace(/^/, '| ')
        .concat(' |'),
    ),
    '',
  ];
  return lines.join('\n');
}

await main();
