// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are HCL source, where ${} is HCL interpolation.
/**
 * A template upload is untrusted input: every resource budget of the engine (core/template/limits.ts) is tested
 * at its limit (accepted, right result) and just past it (a clean diagnostic naming the limit), and the inputs
 * that used to crash, hang or exhaust the process run in a child process with a heap cap and a timeout, so a
 * regression fails here instead of hanging the suite.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkInWorker, gateStats } from '../../core/hcl/syntax/gate-worker.ts';
import { type Diagnostic, formatDiagnostic } from '../../core/template/diagnostics.ts';
import { DEFAULT_LIMITS, type TemplateLimits } from '../../core/template/limits.ts';
import type { LoadResult } from '../../core/template/model.ts';
import { loadTemplate } from '../../core/validation/load.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'kiln-limits-'));
let n = 0;

function write(name: string, text: string): string {
  const file = join(dir, `${n++}-${name}`);
  writeFileSync(file, text);
  return file;
}

async function load(name: string, text: string, limits: Partial<TemplateLimits> = {}): Promise<LoadResult> {
  return loadTemplate(write(name, text), { cwd: dir, limits });
}

const errors = (r: LoadResult): Diagnostic[] => r.diagnostics.filter((d) => d.severity === 'error');

function expectLimit(r: LoadResult, limit: keyof TemplateLimits): Diagnostic {
  const d = errors(r).find((e) => e.summary === `Template limit ${limit} exceeded`);
  expect(d, JSON.stringify(r.diagnostics.map((x) => x.summary))).toBeDefined();
  expect(d?.detail).toContain(`-limit ${limit}=N`);
  return d as Diagnostic;
}

/** An HCL template whose one shell-local provisioner has `inline = [<expr>]`, so the value can be read back. */
const hcl = (expr: string, locals = '') =>
  `${locals}source "null" "x" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.x"]\n  provisioner "shell-local" {\n    inline = [${expr}]\n  }\n}\n`;

function inline(r: LoadResult): unknown {
  expect(errors(r)).toEqual([]);
  return r.template?.builds[0]?.provisioners[0]?.config.inline;
}

const json = (builder: Record<string, unknown>, variables: Record<string, string> = {}) =>
  JSON.stringify({ variables, builders: [{ type: 'null', communicator: 'none', ...builder }] });

describe('limits: values built while evaluating HCL', () => {
  it.each([
    ['string template', '"${join("", [for i in range(100) : "0123456789"])}"', 1000],
    ['join()', 'join("", [for i in range(100) : "0123456789"])', 1000],
    ['format() width', 'format("%1000d", 7)', 1000],
  ])('maxStringLength: %s of exactly the limit is accepted', async (_what, expr, length) => {
    const r = await load('s.pkr.hcl', hcl(expr), { maxStringLength: 1000 });
    expect((inline(r) as string[])[0]).toHaveLength(length);
  });

  it.each([
    ['string template', '"${join("", [for i in range(100) : "0123456789"])}x"'],
    ['join()', 'join("", [for i in range(101) : "0123456789"])'],
    ['format() width', 'format("%1001d", 7)'],
    ['indent()', 'indent(2000, "a\\nb")'],
    [
      'doubling locals',
      'local.d4',
      'locals {\n  d0 = "0123456789012345678901234567890123456789012345678901234567890123"\n  d1 = "${local.d0}${local.d0}"\n  d2 = "${local.d1}${local.d1}"\n  d3 = "${local.d2}${local.d2}"\n  d4 = "${local.d3}${local.d3}"\n}\n',
    ],
  ])('maxStringLength: %s past the limit is refused', async (_what, expr, locals = '') => {
    const r = await load('s.pkr.hcl', hcl(expr, locals), { maxStringLength: 1000 });
    const d = expectLimit(r, 'maxStringLength');
    expect(d.detail).toContain('The limit is 1000 characters');
  });

  it.each([
    ['range()', 'tostring(length(range(100)))', '100'],
    ['for expression', 'tostring(length([for i in range(100) : i]))', '100'],
    ['setproduct()', 'tostring(length(setproduct(range(10), range(10))))', '100'],
    ['range() at cty limit with a higher budget', 'tostring(length(range(1024)))', '1024'],
  ])('maxCollectionLength: %s at the limit is accepted', async (what, expr, want) => {
    const limit = what.includes('cty') ? 1024 : 100;
    const r = await load('c.pkr.hcl', hcl(expr), { maxCollectionLength: limit });
    expect(inline(r)).toEqual([want]);
  });

  it.each([
    ['range()', 'tostring(length(range(101)))'],
    ['for expression', 'tostring(length([for i in concat(range(100), [1]) : i]))'],
    ['setproduct()', 'tostring(length(setproduct(range(10), range(11))))'],
    [
      'setproduct() of three 1000-element lists (not allocated)',
      'tostring(length(setproduct(range(1000), range(1000), range(1000))))',
    ],
    ['can() does not swallow a budget stop', 'tostring(can(range(101)))'],
  ])('maxCollectionLength: %s past the limit is refused', async (what, expr) => {
    const limits = what.includes('three') ? { maxCollectionLength: 1000 } : { maxCollectionLength: 100 };
    expectLimit(await load('c.pkr.hcl', hcl(expr), limits), 'maxCollectionLength');
  });

  it("range() keeps cty's own 1024-element limit with its message", async () => {
    const r = await load('r.pkr.hcl', hcl('tostring(length(range(1025)))'));
    expect(errors(r)[0]?.detail).toContain('more than 1024 values were generated');
  });

  it('maxEvalSteps: a template accepted with exactly the steps it uses, refused with one fewer', async () => {
    const text = hcl('tostring(length([for i in range(30) : [for j in range(30) : j]]))');
    const first = await load('e.pkr.hcl', text);
    expect(inline(first)).toEqual(['30']);
    const used = first.usage?.steps ?? 0;
    expect(used).toBeGreaterThan(900);
    expect(inline(await load('e.pkr.hcl', text, { maxEvalSteps: used }))).toEqual(['30']);
    expectLimit(await load('e.pkr.hcl', text, { maxEvalSteps: used - 1 }), 'maxEvalSteps');
  });

  it.each([
    [
      'nested for over 1000³ elements',
      hcl('tostring(length([for i in range(1000) : [for j in range(1000) : [for k in range(1000) : k]]]))'),
    ],
    [
      'string template for-directive bomb',
      hcl(
        '"%{ for i in range(1000) }%{ for j in range(1000) }%{ for k in range(1000) }x%{ endfor }%{ endfor }%{ endfor }"',
      ),
    ],
    ['bcrypt at cost 31 (days of synchronous work, refused before it starts)', hcl('bcrypt("pw", 31)')],
    ['40 bcrypt calls at cost 10', hcl('join(",", [for i in range(40) : bcrypt("pw")])')],
    [
      '3000 conditionals unifying two 1000-element results (their type check is work)',
      hcl(
        'tostring(length([for i in range(1000) : [for j in range(3) : length(true ? local.big : local.big)]]))',
        'locals {\n  big = range(1000)\n}\n',
      ),
    ],
  ])('maxEvalSteps: %s stops at the default budget', async (_what, text) => {
    expectLimit(await load('e.pkr.hcl', text), 'maxEvalSteps');
  });

  it('maxWallTimeMs: a long evaluation stops at the deadline', async () => {
    const text = hcl('tostring(length([for i in range(1000) : [for j in range(1000) : j]]))');
    const r = await load('w.pkr.hcl', text, { maxWallTimeMs: 1, maxEvalSteps: 1e9 });
    expectLimit(r, 'maxWallTimeMs');
  });
});

describe('limits: nesting', () => {
  const brackets = (k: number) => `${'['.repeat(k)}1${']'.repeat(k)}`;

  it.each([
    ['135 brackets at the default (wrongly refused as "more than 400" before)', 135, undefined],
    ['exactly 20 brackets with maxNestingDepth=20 (one is the locals block)', 19, 20],
  ])('HCL: %s is accepted', async (_what, k, limit) => {
    const r = await load(
      'n.pkr.hcl',
      hcl('tostring(length(local.a))', `locals {\n  a = ${brackets(k)}\n}\n`),
      limit ? { maxNestingDepth: limit } : {},
    );
    expect(inline(r)).toEqual(['1']);
  });

  it.each([
    ['201 brackets at the default', 200, undefined, 'More than 200 nested'],
    ['21 levels with maxNestingDepth=20', 20, 20, 'More than 20 nested'],
  ])('HCL: %s is refused, naming the limit applied', async (_what, k, limit, text) => {
    const r = await load('n.pkr.hcl', `locals {\n  a = ${brackets(k)}\n}\n`, limit ? { maxNestingDepth: limit } : {});
    const d = expectLimit(r, 'maxNestingDepth');
    expect(d.detail).toContain(text);
    expect(d.range?.start.line).toBe(2);
  });

  it('HCL: operator nesting counts as levels in the converter (200 unary operators accepted, 201 refused)', async () => {
    const ok = await load('u.pkr.hcl', hcl('tostring(local.a)', `locals {\n  a = ${'!'.repeat(200)}true\n}\n`));
    expect(inline(ok)).toEqual(['true']);
    const bad = await load('u.pkr.hcl', `locals {\n  a = ${'!'.repeat(201)}true\n}\n`);
    expectLimit(bad, 'maxNestingDepth');
  });

  it.each([
    [20, true],
    [21, false],
  ])('legacy JSON: total nesting %i with maxNestingDepth=20', async (depth, ok) => {
    // Root object, builders array and builder object are three levels.
    const inner = depth - 3;
    const text = `{"builders":[{"type":"null","communicator":"none","x":${'['.repeat(inner)}${']'.repeat(inner)}}]}`;
    const r = await load('n.json', text, { maxNestingDepth: 20 });
    if (ok) expect(errors(r).filter((d) => d.summary.startsWith('Template limit'))).toEqual([]);
    // The column of the first bracket past the limit: the 18th of the value's own.
    else expect(expectLimit(r, 'maxNestingDepth').range?.start.column).toBe(text.indexOf('"x":') + 4 + 18);
  });

  it.each([
    [20, true],
    [21, false],
  ])('HCL JSON syntax: total nesting %i with maxNestingDepth=20', async (depth, ok) => {
    const inner = depth - 2;
    const text = `{"locals":{"a":${'['.repeat(inner)}${']'.repeat(inner)}}}`;
    const r = await load('n.pkr.json', text, { maxNestingDepth: 20 });
    if (ok) expect(r.diagnostics.filter((d) => d.summary.startsWith('Template limit'))).toEqual([]);
    else expectLimit(r, 'maxNestingDepth');
  });
});

describe('limits: legacy JSON templates', () => {
  /** v0 = 2 characters, each level doubles: level k renders 2^(k+1) characters. */
  function doubling(levels: number): Record<string, string> {
    const vars: Record<string, string> = { v0: 'ab' };
    for (let i = 1; i <= levels; i++) vars[`v${i}`] = `{{user \`v${i - 1}\`}}{{user \`v${i - 1}\`}}`;
    return vars;
  }

  it('doubling user variables: exactly maxStringLength characters is accepted', async () => {
    const r = await load('d.json', json({ x: '{{user `v9`}}' }, doubling(9)), { maxStringLength: 1024 });
    // The null builder has no `x`: only that key is reported, and the value is there, whole.
    expect(errors(r).map((d) => d.summary)).toEqual(['Unknown configuration key: "x"']);
    expect(r.template?.builds[0]?.config.x).toHaveLength(1024);
  });

  it.each([
    ['one level past the limit', 10, { maxStringLength: 1024 }],
    ['25 levels at the default (688 MB before)', 25, {}],
  ])('doubling user variables: %s is refused', async (_what, levels, limits) => {
    const r = await load('d.json', json({ x: `{{user \`v${levels}\`}}` }, doubling(levels)), limits);
    expect(expectLimit(r, 'maxStringLength').range?.file).toContain('d.json');
  });

  it.each([
    ['maxFileBytes', 'f.json'],
    ['maxFileBytes', 'f.pkr.hcl'],
  ])('%s: a %s of exactly the limit is read, one byte more is refused', async (_l, name) => {
    const base = name.endsWith('.json') ? json({}) : hcl('"a"');
    const pad = (k: number) => (name.endsWith('.json') ? `${base}${' '.repeat(k)}` : `${base}${'#'.repeat(k - 1)}\n`);
    const limit = base.length + 100;
    const at = await load(name, pad(100), { maxFileBytes: limit });
    expect(at.diagnostics.filter((d) => d.summary.startsWith('Template limit'))).toEqual([]);
    expectLimit(await load(name, pad(101), { maxFileBytes: limit }), 'maxFileBytes');
  });
});

describe('limits: diagnostics', () => {
  const unknownKeys = (k: number) => json(Object.fromEntries(Array.from({ length: k }, (_, i) => [`k${i}`, 1])));

  it('maxDiagnostics: N problems with maxDiagnostics=N are all reported', async () => {
    const r = await load('k.json', unknownKeys(10), { maxDiagnostics: 10 });
    expect(r.diagnostics).toHaveLength(10);
    expect(r.diagnostics.every((d) => d.summary.startsWith('Unknown configuration key'))).toBe(true);
  });

  it('maxDiagnostics: N+1 problems keep N and say how many were left out', async () => {
    const r = await load('k.json', unknownKeys(11), { maxDiagnostics: 10 });
    expect(r.diagnostics).toHaveLength(11);
    expect(r.diagnostics[10]?.summary).toBe('1 more diagnostics not shown');
    expect(r.diagnostics[10]?.detail).toContain('maxDiagnostics');
  });

  it('maxDiagnosticChars: the text budget cuts the list and names itself', async () => {
    const r = await load('k.json', unknownKeys(50), { maxDiagnosticChars: 300 });
    const chars = r.diagnostics.slice(0, -1).reduce((s, d) => s + d.summary.length + (d.detail?.length ?? 0), 0);
    expect(chars).toBeLessThanOrEqual(300);
    expect(r.diagnostics.at(-1)?.detail).toContain('maxDiagnosticChars');
  });

  it.each([
    [40, 10],
    [160, 80],
    [160, 100_000],
  ])(
    'maxSnippetChars=%i: a diagnostic on column %i of a 200,000-character line prints a window with the caret on it',
    (max, column) => {
      const line = `${'a'.repeat(column - 1)}X${'b'.repeat(200_000 - column)}`;
      const d: Diagnostic = {
        severity: 'error',
        summary: 's',
        range: { file: 'f', start: { line: 1, column }, end: { line: 1, column } },
      };
      const out = formatDiagnostic(d, { sources: new Map([['f', line]]), maxSnippetChars: max });
      const [, , , code, caret] = out.split('\n');
      expect(code?.length).toBeLessThanOrEqual(`  1: `.length + max + 2);
      expect(code?.[(caret?.length ?? 0) - 1]).toBe('X');
    },
  );
});

describe('limits: Packer behaviour that used to give wrong results', () => {
  it.each([
    ['cidrsubnets("10.0.0.0/24", 1, 1)', ['10.0.0.0/25', '10.0.0.128/25']],
    ['cidrsubnets("10.0.0.0/24", 2, 1)', ['10.0.0.0/26', '10.0.0.128/25']],
    ['cidrsubnets("10.0.0.0/24", 1, 2, 2)', ['10.0.0.0/25', '10.0.0.128/26', '10.0.0.192/26']],
  ])('%s fits in its base', async (expr, want) => {
    expect(inline(await load('c.pkr.hcl', hcl(`join(",", ${expr})`)))).toEqual([want.join(',')]);
  });

  it.each([
    ['cidrsubnets("10.0.0.0/24", 1, 1, 1)', '25 bits after 10.0.0.128/25'],
    ['cidrsubnets("10.0.0.0/24", 1, 2, 2, 2)', '26 bits after 10.0.0.192/26'],
  ])('%s fails: not enough remaining address space', async (expr, tail) => {
    const r = await load('c.pkr.hcl', hcl(`join(",", ${expr})`));
    expect(errors(r)[0]?.detail).toContain(`not enough remaining address space for a subnet with a prefix of ${tail}`);
  });

  it('templatefile cannot call itself (Packer: no recursion), while a plain templatefile works', async () => {
    const sub = join(dir, `tf${n++}`);
    mkdirSync(sub);
    writeFileSync(join(sub, 'self.tpl'), '${templatefile("self.tpl", {})}${templatefile("self.tpl", {})}');
    writeFileSync(join(sub, 'plain.tpl'), 'hello ${name}');
    const file = join(sub, 't.pkr.hcl');
    writeFileSync(file, hcl('templatefile("plain.tpl", { name = "kiln" })'));
    expect(inline(await loadTemplate(file, { cwd: sub }))).toEqual(['hello kiln']);
    writeFileSync(file, hcl('templatefile("self.tpl", {})'));
    const r = await loadTemplate(file, { cwd: sub });
    expect(errors(r)[0]?.detail).toContain('cannot recursively call templatefile from inside templatefile call');
  });
});

describe('limits: the HCL syntax checker', () => {
  it.each([
    ['1e9999 (4 exponent digits) is accepted by the pre-check', 'locals {\n  a = 1e9999\n}\n', undefined],
    ['1e99999 is refused before the checker sees it', 'locals {\n  a = 1e99999\n}\n', 'Number literal out of range'],
    [
      '1e9999999 (200 s in the checker before) is refused at once',
      'locals {\n  a = 1e9999999\n}\n',
      'Number literal out of range',
    ],
    [
      '12,500 "!" (killed the checker before) are refused',
      `locals {\n  a = ${'!'.repeat(12_500)}true\n}\n`,
      'Template limit maxNestingDepth exceeded',
    ],
    [
      'a comment of 300 dashes is not an operator run',
      `# ${'-'.repeat(300)}\nlocals {\n  a = "${'!'.repeat(300)}"\n}\n`,
      undefined,
    ],
  ])('%s', async (_what, text, summary) => {
    const r = await load('g.pkr.hcl', text);
    const summaries = r.diagnostics.map((d) => d.summary);
    if (summary) expect(summaries).toContain(summary);
    else expect(summaries.filter((s) => /limit|out of range/.test(s))).toEqual([]);
  });

  it('syntaxCheckTimeoutMs: a call past its time limit is a diagnostic; the next call gets a fresh checker', async () => {
    const started = gateStats.started;
    // Large enough that the checker cannot answer within 1 ms even when warm.
    const big = `locals {\n${Array.from({ length: 5000 }, (_, i) => `  a${i} = "${i}"\n`).join('')}}\n`;
    const r = await load('t.pkr.hcl', big, { syntaxCheckTimeoutMs: 1 });
    expectLimit(r, 'syntaxCheckTimeoutMs');
    const ok = await load('t.pkr.hcl', hcl('"fine"'));
    expect(inline(ok)).toEqual(['fine']);
    expect(gateStats.started).toBeGreaterThan(started);
  });

  it('poisoned process: an input that kills the Go runtime, then two good templates, both answered', async () => {
    // Straight to the worker, past the pre-checks, to prove the isolation itself.
    const killer = `x = ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`;
    const crashed = await checkInWorker('f', killer, 60_000);
    expect(crashed.kind).toBe('crashed');
    const first = await load('p.pkr.hcl', hcl('"one"'));
    const second = await load('p.pkr.hcl', 'source "null" "x" {\n  communicator = "none"\n  bad bad\n}\n');
    expect(inline(first)).toEqual(['one']);
    expect(errors(second)[0]?.range?.start.line).toBe(3);
  }, 120_000);
});

/** Inputs that crashed, hung or exhausted the process before, each in one child with a heap cap and a timeout. */
describe('limits: former crashes, in a child process with a 256 MB heap', () => {
  const keys = (k: number) =>
    `{"builders":[{"type":"null","communicator":"none",${Array.from({ length: k }, (_, i) => `"k${i}":1`).join(',')}}]}`;
  const doublingVars: Record<string, string> = { v0: 'ab' };
  for (let i = 1; i <= 25; i++) doublingVars[`v${i}`] = `{{user \`v${i - 1}\`}}{{user \`v${i - 1}\`}}`;
  const tfDir = join(dir, 'child-tf');
  mkdirSync(tfDir);
  writeFileSync(join(tfDir, 'self.tpl'), '${templatefile("self.tpl", {})}${templatefile("self.tpl", {})}');
  writeFileSync(join(tfDir, 'self.pkr.hcl'), hcl('templatefile("self.tpl", {})'));
  const cases: [string, string, string | RegExp][] = [
    [
      '2,000 nested arrays in a builder value',
      write('deep.json', `{"builders":[{"type":"null","x":${'['.repeat(2000)}${']'.repeat(2000)}}]}`),
      'Template limit maxNestingDepth exceeded',
    ],
    [
      'user variables doubling 25 times',
      write('double.json', json({ x: '{{user `v25`}}' }, doublingVars)),
      'Template limit maxStringLength exceeded',
    ],
    ['8,000 unknown keys on one line', write('k8.json', keys(8000)), 'Unknown configuration key: "k0"'],
    ['20,000 unknown keys on one line', write('k20.json', keys(20_000)), 'Unknown configuration key: "k0"'],
    [
      '12,500 "!" before true',
      write('bang.pkr.hcl', `locals { a = ${'!'.repeat(12_500)}true }\n`),
      'Template limit maxNestingDepth exceeded',
    ],
    ['1e999999', write('exp.pkr.hcl', 'locals { a = 1e999999 }\n'), 'Number literal out of range'],
    [
      'for over range(100000) of range(100000)',
      write('r.pkr.hcl', hcl('tostring(length([for i in range(100000) : [for j in range(100000) : j]]))')),
      /more than 1024 values/,
    ],
    [
      'three nested for over 1000 elements',
      write(
        'f3.pkr.hcl',
        hcl('tostring(length([for i in range(1000) : [for j in range(1000) : [for k in range(1000) : k]]]))'),
      ),
      'Template limit maxEvalSteps exceeded',
    ],
    [
      'setproduct of three 1000-element ranges',
      write('sp.pkr.hcl', hcl('tostring(length(setproduct(range(1000), range(1000), range(1000))))')),
      'Template limit maxCollectionLength exceeded',
    ],
    ['self-recursive templatefile', join(tfDir, 'self.pkr.hcl'), /cannot recursively call templatefile/],
    ['a good template after all of them', write('good.pkr.hcl', hcl('"still fine"')), 'OK'],
  ];

  type Line = {
    path: string;
    ms: number;
    ok: boolean;
    diagnostics: number;
    textChars: number;
    summaries: string[];
    detail: string;
    peakMb: number;
  };
  let lines: Promise<Line[]> | undefined;
  const run = () => {
    lines ??= new Promise<Line[]>((res, rej) => {
      execFile(
        process.execPath,
        [
          '--max-old-space-size=256',
          '--import',
          'tsx',
          join(ROOT, 'bench/lib/template-probe.ts'),
          ...cases.map((c) => c[1]),
        ],
        { cwd: ROOT, timeout: 240_000, maxBuffer: 10 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const parsed = stdout
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Line);
          if (err && parsed.length < cases.length)
            rej(new Error(`probe failed: ${err.message}\n${stderr.slice(0, 2000)}`));
          else res(parsed);
        },
      );
    });
    return lines;
  };

  it.each(cases.map((c, i) => [c[0], i, c[2]] as const))(
    '%s: a clean diagnostic, bounded time and memory',
    async (_what, i, want) => {
      const line = (await run())[i] as Line;
      expect(line).toBeDefined();
      if (want === 'OK') expect(line.ok).toBe(true);
      else {
        expect(line.ok).toBe(false);
        const text = `${line.summaries.join('\n')}\n${line.detail}`;
        if (typeof want === 'string') expect(line.summaries).toContain(want);
        else expect(text).toMatch(want);
      }
      // Generous margins: the machine is shared; these catch exponential blow-ups, not slowness.
      expect(line.ms).toBeLessThan(60_000);
      expect(line.peakMb).toBeLessThan(600);
      expect(line.diagnostics).toBeLessThanOrEqual(DEFAULT_LIMITS.maxDiagnostics + 1);
      expect(line.textChars).toBeLessThan(2 * DEFAULT_LIMITS.maxDiagnosticChars);
    },
    300_000,
  );
});
