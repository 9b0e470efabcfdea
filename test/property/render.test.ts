/**
 * Property tests for the quoting in core/provisioners/render: for ANY string built from the characters that
 * matter to a shell (quotes of every kind, `$`, backticks, backslashes, newlines, CR, operators, globs,
 * heredoc delimiters, template tokens, Unicode), every value position is inert under real bash and the value
 * round-trips exactly; a NUL byte is always refused. bash runs are batched: one run carries a whole array of
 * values (BATCH per run, so RUNS values per property). PowerShell quoting is checked against the
 * language-spec reader in test/security/ps-literal.ts, not a real PowerShell.
 *
 * Size: `KILN_FC_RUNS` values per bash property (default 100); the pure properties run ten times as many.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProvisionerFailedError } from '../../core/errors.ts';
import { renderPowerShell } from '../../core/provisioners/render/powershell.ts';
import { flattenEnvVars, psq, shq } from '../../core/provisioners/render/quote.ts';
import { renderFile, renderShell, type ShellRenderContext } from '../../core/provisioners/render/shell.ts';
import { readPsVerbatim } from '../security/ps-literal.ts';
import { makeSandbox, type Sandbox } from '../security/sandbox.ts';

const RUNS = Number(process.env.KILN_FC_RUNS ?? 100);
const BATCH = 20;
const TIMEOUT_MS = Math.max(60_000, RUNS * 600);

const PIECES = [
  "'",
  '"',
  '`',
  '\u2018',
  '\u2019',
  '\u201A',
  '\u201B',
  '\u201C',
  '\u201D',
  '$',
  '$(',
  '${',
  "$'",
  '$&',
  '$`',
  '\\',
  '\n',
  '\r',
  '\t',
  ' ',
  ';',
  '|',
  '&',
  '(',
  ')',
  '{',
  '}',
  '*',
  '?',
  '[',
  '~',
  '!',
  '#',
  '%s',
  '<',
  '>',
  'KILN_EOF',
  '\nKILN_EOF\n',
  '{{.Path}}',
  '{{ .Vars }}',
  'touch @M@',
  'a',
  'Z9',
  'é',
  '日本',
  '🙂',
  '\u001b[0m',
  '\u00a0',
];

/** Hostile strings without NUL: concatenations of the pieces above and arbitrary Unicode. */
const hostile = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replace(/\0/g, () => '')) },
);
/** Path material: `.` and `..` segments would make the expected path differ from the one the OS resolves. */
const pathy = hostile.filter((s) => s !== '' && !s.split('/').some((seg) => seg === '.' || seg === '..'));
const batch = (arb: fc.Arbitrary<string>) => fc.array(arb, { minLength: BATCH, maxLength: BATCH });
const ctx = (extra: Partial<ShellRenderContext> = {}): ShellRenderContext => ({
  buildName: 'b',
  builderType: 't',
  index: 0,
  files: new Map(),
  ...extra,
});

/** A file name from a hostile string: no `/`, not empty, at most 200 bytes. */
function fileName(value: string, n: number): string {
  let name = `${n}-${value.replace(/\//g, () => '_')}`;
  while (Buffer.byteLength(name) > 200) name = name.slice(0, -1);
  return name;
}

describe('POSIX quoting under real bash', () => {
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => sb.dispose());

  /** Runs the concatenated scripts once; returns what each wrote to $HOME/out<n>. */
  const runAll = (scripts: readonly string[]) => {
    sb.run(scripts.join('\n'));
    return scripts.map((_, n) => {
      try {
        return readFileSync(join(sb.home, `out${n}`), 'utf8');
      } catch {
        return undefined;
      }
    });
  };

  const envPositions: Record<string, (v: string, n: number) => string> = {
    'environment_vars, default execute_command': (v, n) =>
      renderShell(
        { inline: [`printf %s "$V" > "$HOME/out${n}"`], environment_vars: [`V=${v}`], remote_folder: sb.root },
        ctx({ index: n }),
      ),
    "nested sh -c '{{.Vars}} {{.Path}}'": (v, n) =>
      renderShell(
        {
          inline: [`printf %s "$V" > "$HOME/out${n}"`],
          env: { V: v },
          execute_command: "chmod +x {{.Path}}; sh -c '{{.Vars}} {{.Path}}'",
          remote_folder: sb.root,
        },
        ctx({ index: n }),
      ),
    'env_var_format export %s="%s";': (v, n) =>
      renderShell(
        {
          inline: [`printf %s "$V" > "$HOME/out${n}"`],
          environment_vars: [`V=${v}`],
          env_var_format: 'export %s="%s"; ',
          execute_command: '{{.Vars}} {{.Path}}',
          remote_folder: sb.root,
        },
        ctx({ index: n }),
      ),
    use_env_var_file: (v, n) =>
      renderShell(
        {
          inline: [`printf %s "$V" > "$HOME/out${n}"`],
          environment_vars: [`V=${v}`],
          use_env_var_file: true,
          remote_folder: sb.root,
        },
        ctx({ index: n }),
      ),
    'build name': (v, n) =>
      renderShell(
        { inline: [`printf %s "$PACKER_BUILD_NAME" > "$HOME/out${n}"`], remote_folder: sb.root },
        ctx({ index: n, buildName: v }),
      ),
  };

  it.each(Object.keys(envPositions))(
    '%s: any value is inert and round-trips',
    (position) => {
      const render = envPositions[position] as (v: string, n: number) => string;
      fc.assert(
        fc.property(batch(hostile), (raw) => {
          const values = raw.map((v) => sb.arm(v));
          const got = runAll(values.map(render));
          expect(sb.pwned()).toBe(false);
          expect(got).toEqual(values);
        }),
        { numRuns: Math.ceil(RUNS / BATCH) },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'remote_folder and remote_file: the script runs at exactly that path',
    () => {
      fc.assert(
        fc.property(batch(pathy), (raw) => {
          const values = raw.map((v) => sb.arm(v));
          const expected: string[] = [];
          const scripts = values.map((v, n) => {
            const folder = `${sb.root}/f${n}/${v}`;
            const file = fileName(v, n);
            expected.push(`${folder}/${file}`);
            return renderShell(
              { inline: [`printf %s "$0" > "$HOME/out${n}"`], remote_folder: folder, remote_file: file },
              ctx({ index: n }),
            );
          });
          const got = runAll(scripts);
          expect(sb.pwned()).toBe(false);
          expect(got).toEqual(expected);
        }),
        { numRuns: Math.ceil(RUNS / BATCH) },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'file destination: the file lands at exactly that path',
    () => {
      const source = join(sb.root, 'source.txt');
      writeFileSync(source, 'content');
      const files = new Map([
        ['s', { path: 's', directory: false, entries: [{ subPath: '', url: `stub:${source}` }] }],
      ]);
      fc.assert(
        fc.property(batch(pathy), (raw) => {
          const values = raw.map((v) => sb.arm(v));
          const targets = values.map((v, n) => `${sb.root}/d${n}/${v.endsWith('/') ? `${v}x` : v}`);
          sb.run(targets.map((destination) => renderFile({ source: 's', destination }, ctx({ files }))).join('\n'));
          expect(sb.pwned()).toBe(false);
          expect(targets.map((t) => readFileSync(t, 'utf8'))).toEqual(targets.map(() => 'content'));
        }),
        { numRuns: Math.ceil(RUNS / BATCH) },
      );
    },
    TIMEOUT_MS,
  );
});

describe('pure quoting properties', () => {
  it('shq: bash reads back exactly the value (one batched bash run per 50 values)', () => {
    const sb = makeSandbox();
    try {
      fc.assert(
        fc.property(fc.array(hostile, { minLength: 50, maxLength: 50 }), (values) => {
          const script = values.map((v, n) => `printf %s ${shq(v)} > "$HOME/out${n}"`).join('\n');
          sb.run(script);
          expect(sb.pwned()).toBe(false);
          expect(values.map((_, n) => readFileSync(join(sb.home, `out${n}`), 'utf8'))).toEqual(values);
        }),
        { numRuns: Math.max(2, Math.ceil(RUNS / 50)) },
      );
    } finally {
      sb.dispose();
    }
  });

  it('psq: the PowerShell spec reader reads back exactly the value and ends at the closing quote', () => {
    fc.assert(
      fc.property(hostile, fc.string({ unit: 'binary', maxLength: 30 }), (a, b) => {
        const value = a + b.replace(/\0/g, () => '');
        const text = `${psq(value)} tail`;
        const lit = readPsVerbatim(text, 0);
        expect(lit.value).toBe(value);
        expect(text.slice(lit.end)).toBe(' tail');
      }),
      { numRuns: RUNS * 10 },
    );
  });

  it('renderPowerShell: every environment value is exactly one literal on its line', () => {
    fc.assert(
      fc.property(hostile, (value) => {
        const lines = renderPowerShell({ inline: ['x'], environment_vars: [`V=${value}`] }, ctx());
        const line = lines.find((l) => l.startsWith('$env:V = ')) ?? '';
        const lit = readPsVerbatim(line, '$env:V = '.length);
        expect(lit.value).toBe(value);
        expect(lit.end).toBe(line.length);
      }),
      { numRuns: RUNS * 10 },
    );
  });

  it("flattenEnvVars: never uses a value as a replacement pattern ($&, $`, $' survive)", () => {
    fc.assert(
      fc.property(hostile, (value) => {
        const flat = flattenEnvVars([['V', value]]);
        expect(flat.startsWith("V='")).toBe(true);
        expect(flat.slice(3, -2).split(`'"'"'`).join("'")).toBe(value);
      }),
      { numRuns: RUNS * 10 },
    );
  });

  it('a NUL byte anywhere is refused by every position', () => {
    const withNul = fc.tuple(hostile, hostile).map(([a, b]) => `${a}\0${b}`);
    const positions: ((v: string) => unknown)[] = [
      (v) => shq(v),
      (v) => psq(v),
      (v) => renderShell({ inline: ['x'], environment_vars: [`V=${v}`] }, ctx()),
      (v) => renderShell({ inline: ['x'], env: { V: v } }, ctx()),
      (v) => renderShell({ inline: ['x'], remote_folder: v }, ctx()),
      (v) => renderShell({ inline: ['x'] }, ctx({ buildName: v })),
      (v) => renderFile({ source: 's', destination: v, direction: 'download' }, ctx({ uploadUrl: 'u' })),
      (v) => renderPowerShell({ inline: ['x'], environment_vars: [`V=${v}`] }, ctx()),
    ];
    fc.assert(
      fc.property(withNul, fc.integer({ min: 0, max: positions.length - 1 }), (value, p) => {
        expect(() => (positions[p] as (v: string) => unknown)(value)).toThrow(ProvisionerFailedError);
      }),
      { numRuns: RUNS * 10 },
    );
  });
});
