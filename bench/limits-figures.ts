/**
 * `node --import tsx bench/limits-figures.ts`: measures the template resource budgets on hostile inputs and the
 * isolated HCL syntax checker, and writes bench/limits-figures.md. Each hostile template runs in its own child
 * process (256 MB heap) through bench/lib/template-probe.ts, so the time and peak RSS are those of one load.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkInWorker, gateStats, stopGateWorker } from '../core/hcl/syntax/gate-worker.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'kiln-limits-bench-'));
const good = 'source "null" "x" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.x"]\n}\n';
const hcl = (locals: string) => `locals {\n  a = ${locals}\n}\n${good}`;
const keys = (k: number) =>
  `{"builders":[{"type":"null","communicator":"none",${Array.from({ length: k }, (_, i) => `"k${i}":1`).join(',')}}]}`;
const doubling: Record<string, string> = { v0: 'ab' };
for (let i = 1; i <= 25; i++) doubling[`v${i}`] = `{{user \`v${i - 1}\`}}{{user \`v${i - 1}\`}}`;
mkdirSync(join(dir, 'tf'));
// biome-ignore lint/suspicious/noTemplateCurlyInString: HCL template text, where ${} is HCL interpolation.
writeFileSync(join(dir, 'tf/self.tpl'), '${templatefile("self.tpl", {})}${templatefile("self.tpl", {})}');

const cases: [string, string, string][] = [
  ['good.pkr.hcl', good, 'a valid HCL template (baseline)'],
  ['good.json', '{"builders":[{"type":"null","communicator":"none"}]}', 'a valid JSON template (baseline)'],
  ['deep.json', `{"builders":[{"type":"null","x":${'['.repeat(2000)}${']'.repeat(2000)}}]}`, '2,000 nested arrays'],
  [
    'double.json',
    JSON.stringify({ variables: doubling, builders: [{ type: 'null', x: '{{user `v25`}}' }] }),
    'user variables doubling 25×',
  ],
  ['k8.json', keys(8000), '8,000 unknown keys on one line'],
  ['k20.json', keys(20_000), '20,000 unknown keys on one line'],
  ['bang.pkr.hcl', hcl(`${'!'.repeat(12_500)}true`), '12,500 `!` before `true`'],
  ['exp6.pkr.hcl', hcl('1e999999'), '`1e999999`'],
  ['exp7.pkr.hcl', hcl('1e9999999'), '`1e9999999`'],
  ['range.pkr.hcl', hcl('[for i in range(100000) : [for j in range(100000) : j]]'), 'for over range(100000)²'],
  [
    'for3.pkr.hcl',
    hcl('[for i in range(1000) : [for j in range(1000) : [for k in range(1000) : k]]]'),
    'three nested for over 1,000',
  ],
  [
    'setproduct.pkr.hcl',
    hcl('setproduct(range(1000), range(1000), range(1000))'),
    'setproduct of three 1,000-element ranges',
  ],
  ['tf/self.pkr.hcl', hcl('templatefile("self.tpl", {})'), 'self-recursive templatefile'],
  ['br135.pkr.hcl', hcl(`${'['.repeat(135)}${']'.repeat(135)}`), '135 nested brackets (accepted)'],
];

interface Line {
  ms: number;
  ok: boolean;
  diagnostics: number;
  textChars: number;
  summaries: string[];
  peakMb: number;
}
const rows: string[] = [];
for (const [name, text, what] of cases) {
  const file = join(dir, name);
  writeFileSync(file, text);
  const t0 = performance.now();
  const out = execFileSync(
    process.execPath,
    ['--max-old-space-size=256', '--import', 'tsx', join(ROOT, 'bench/lib/template-probe.ts'), file],
    { cwd: ROOT, timeout: 300_000, encoding: 'utf8' },
  );
  const process_ms = Math.round(performance.now() - t0);
  const line = JSON.parse(out.trim().split('\n').at(-1) as string) as Line;
  const verdict = line.ok ? 'accepted' : (line.summaries[0] ?? '').replaceAll('|', '\\|');
  rows.push(
    `| ${what} | ${verdict} | ${line.diagnostics} | ${line.textChars} | ${line.ms} | ${process_ms} | ${line.peakMb} |`,
  );
  process.stderr.write(`${name}: ${line.ms} ms\n`);
}

// The isolated checker: first call (worker start + wasm compile), warm calls, recycle after a crash.
const time = async (source: string) => {
  const t0 = performance.now();
  const r = await checkInWorker('f', source, 60_000);
  return { ms: Math.round(performance.now() - t0), kind: r.kind };
};
const first = await time(good);
const warm: number[] = [];
for (let i = 0; i < 20; i++) warm.push((await time(good)).ms);
warm.sort((a, b) => a - b);
const crash = await time(`x = ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
const recycle = await time(good);
const after = await time(good);
await stopGateWorker();

// Import cost of the engine for a JSON template: the Go wasm no longer compiles at import.
const importMs = (file: string) => {
  const t0 = performance.now();
  execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/lib/template-probe.ts'), file], { cwd: ROOT });
  return Math.round(performance.now() - t0);
};
const jsonProcess = importMs(join(dir, 'good.json'));
const hclProcess = importMs(join(dir, 'good.pkr.hcl'));

const md = `# Template resource limits: measured figures

Generated by \`node --import tsx bench/limits-figures.ts\` on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores
(shared with other jobs, so times are indicative; the tests assert only generous margins). Defaults: see
core/template/limits.ts.

## Hostile templates (each in its own process, \`--max-old-space-size=256\`)

| Input | Verdict (first diagnostic) | Diagnostics | Printed chars | Load ms | Process ms | Peak RSS MB |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

## HCL syntax checker in a worker thread (@cdktf/hcl2json)

| Call | ms |
| --- | ---: |
| first call (worker start + wasm compile) | ${first.ms} |
| warm call, median of 20 | ${warm[10]} |
| warm call, slowest of 20 | ${warm[19]} |
| input that kills the Go runtime (${crash.kind}) | ${crash.ms} |
| next call after the crash (fresh worker) | ${recycle.ms} (${recycle.kind}) |
| the call after that | ${after.ms} (${after.kind}) |

Workers started: ${gateStats.started}, discarded: ${gateStats.discarded}.

## Whole process (tsx start, load, exit)

| Template | ms |
| --- | ---: |
| valid JSON template (no Go wasm at all) | ${jsonProcess} |
| valid HCL template (worker started on demand) | ${hclProcess} |
`;
writeFileSync(join(ROOT, 'bench/limits-figures.md'), md);
process.stdout.write(md);
