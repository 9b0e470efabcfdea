/**
 * A template upload is untrusted input: hostile values through every position where a template value reaches
 * a generated script. Each rendered script runs under real bash in a sandbox (test/security/sandbox.ts); a
 * case passes when no marker file appears AND the value arrived byte for byte (or, where a value cannot be
 * carried, when Kiln refuses it). PowerShell output is checked with the spec-based reader in ps-literal.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProvisionerFailedError } from '../../core/errors.ts';
import { PROVISIONERS } from '../../core/provisioners/registry.ts';
import { renderPowerShell } from '../../core/provisioners/render/powershell.ts';
import { flattenEnvVars, psq, shq } from '../../core/provisioners/render/quote.ts';
import { renderFile, renderShell, type ShellRenderContext } from '../../core/provisioners/render/shell.ts';
import { runShellLocal } from '../../functions/common/shell-local/run-shell-local.ts';
import { readPsVerbatim } from './ps-literal.ts';
import { makeSandbox, type Sandbox, shellcheck } from './sandbox.ts';

/** `@M@` stands for the sandbox's marker path. */
const LONG = `${'$(touch @M@)'.repeat(3)}${`${'A'.repeat(140)}'"\`$/`.repeat(20)}end`;
const PAYLOADS: readonly (readonly [string, string])[] = [
  ['command substitution', '$(touch @M@)'],
  ['backticks', '`touch @M@`'],
  ["the reported $' exploit", `$'$(touch @M@)" #`],
  ['$& replacement pattern', 'p@ss$&word'],
  ['$` replacement pattern', 'a$`b$`touch @M@`'],
  ["$' replacement pattern", "x$'y$'touch @M@"],
  ['single-quote breakout', "'; touch @M@; '"],
  ['double-quote breakout', '"; touch @M@; "'],
  ['backslash-quote breakout', '\\"; touch @M@; #\\'],
  ['trailing backslash', 'value\\'],
  ['newline then command', 'a\ntouch @M@\n'],
  ['carriage return', 'a\rtouch @M@\r'],
  ['semicolon', ';touch @M@'],
  ['pipe', '| touch @M@'],
  ['and-and', '&& touch @M@'],
  ['globs and tilde', '* ? [a-z] ~ ~root'],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${IFS} is the payload
  ['IFS splitting', '${IFS}touch${IFS}@M@'],
  ['heredoc delimiter line', 'x\nKILN_EOF\ntouch @M@\nKILN_EOF_1\n'],
  ['heredoc delimiter alone', 'KILN_EOF'],
  ['ANSI escapes', '\u001b[31mred\u001b[0m\u0007'],
  ['Unicode quotes', '\u2018single\u2019 \u201Alow\u201B \u201Cdouble\u201D'],
  ['pre-escaped quotes', `'"'"'$(touch @M@)'"'"'`],
  ['very long value', LONG],
  ['printf verbs', '%s %% %d %!s(MISSING)'],
  ['template tokens', '{{.Path}} {{ .Vars }} {{.EnvVarFile}}'],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: literal ${…} expansions are the payload
  ['parameter expansion', '$HOME $((1+1)) ${X:-y} $MARK'],
  ['history expansion', '!! !$ !-1'],
  ['redirection', '> @M@'],
  ['process substitution', '<(touch @M@)'],
  ['leading dashes', '--help -rf'],
  ['Unicode text', 'é 日本語 🙂 \u200b'],
  ['tabs and form feeds', '\ttab\vvt\fff'],
  ['comment then command', '#c\n$(touch @M@)'],
  ['mixed quoting', 'a\'b"c`d$e\\f'],
  ['surrounding spaces', '  spaced  '],
  ['ANSI-C quote', "$'\\x27; touch @M@'"],
  ['arithmetic', '$[1+1] $((`touch @M@`))'],
];

/** File names cannot hold `/` or exceed 255 bytes: the same payload, made a single name. */
function asFileName(value: string): string {
  let name = value.replace(/\//g, () => '_');
  while (Buffer.byteLength(name) > 200) name = name.slice(0, -1);
  return name;
}

const CTX = (extra: Partial<ShellRenderContext> = {}): ShellRenderContext => ({
  buildName: 'amazon-ebs.b',
  builderType: 'amazon-ebs',
  index: 0,
  files: new Map(),
  ...extra,
});
const PRINT_V = ['printf %s "$V" > "$HOME/out"'];

interface Outcome {
  /** The bytes the script received, to compare with the payload (or the expected transform of it). */
  readonly got: string | undefined;
  readonly want: string;
  readonly script?: string;
}

type Position = (sb: Sandbox, value: string) => Outcome | Promise<Outcome>;

/** Positions in generated bash, each returning what arrived and what should have. */
const POSITIONS: Record<string, Position> = {
  'environment_vars value (default execute_command)': (sb, v) => {
    const script = renderShell({ inline: PRINT_V, environment_vars: [`V=${v}`], remote_folder: sb.root }, CTX());
    sb.run(script);
    return { got: sb.out(), want: v, script };
  },
  'env map value': (sb, v) => {
    const script = renderShell({ inline: PRINT_V, env: { V: v }, remote_folder: sb.root }, CTX());
    sb.run(script);
    return { got: sb.out(), want: v, script };
  },
  'env file (use_env_var_file heredoc)': (sb, v) => {
    const script = renderShell(
      { inline: PRINT_V, environment_vars: [`V=${v}`], use_env_var_file: true, remote_folder: sb.root },
      CTX(),
    );
    sb.run(script);
    return { got: sb.out(), want: v, script };
  },
  "nested sh -c '{{.Vars}} {{.Path}}'": (sb, v) => {
    const script = renderShell(
      {
        inline: PRINT_V,
        environment_vars: [`V=${v}`],
        execute_command: "chmod +x {{ .Path }}; sh -c '{{ .Vars }} {{ .Path }}'",
        remote_folder: sb.root,
      },
      CTX(),
    );
    sb.run(script);
    return { got: sb.out(), want: v, script };
  },
  'nested sh -c "{{.Vars}} {{.Path}}"': (sb, v) => {
    const script = renderShell(
      {
        inline: PRINT_V,
        environment_vars: [`V=${v}`],
        execute_command: 'chmod +x {{ .Path }}; sh -c "{{ .Vars }} {{ .Path }}"',
        remote_folder: sb.root,
      },
      CTX(),
    );
    sb.run(script);
    return { got: sb.out(), want: v, script };
  },
  'env_var_format with double quotes': (sb, v) => {
    const script = renderShell(
      {
        inline: PRINT_V,
        environment_vars: [`V=${v}`],
        env_var_format: 'export %s="%s"; ',
        execute_command: '{{.Vars}} {{.Path}}',
        remote_folder: sb.root,
      },
      CTX(),
    );
    sb.run(script);
    return { got: sb.out(), want: v, script };
  },
  'env_var_format unquoted': (sb, v) => {
    const script = renderShell(
      { inline: PRINT_V, environment_vars: [`V=${v}`], env_var_format: 'export %s=%s; ', remote_folder: sb.root },
      CTX(),
    );
    sb.run(script);
    return { got: sb.out(), want: v, script };
  },
  'build name (PACKER_BUILD_NAME)': (sb, v) => {
    const script = renderShell(
      { inline: ['printf %s "$PACKER_BUILD_NAME" > "$HOME/out"'], remote_folder: sb.root },
      CTX({ buildName: v }),
    );
    sb.run(script);
    return { got: sb.out(), want: v, script };
  },
  'builder type (PACKER_BUILDER_TYPE)': (sb, v) => {
    const script = renderShell(
      { inline: ['printf %s "$PACKER_BUILDER_TYPE" > "$HOME/out"'], remote_folder: sb.root },
      CTX({ builderType: v }),
    );
    sb.run(script);
    return { got: sb.out(), want: v, script };
  },
  'remote_folder ({{.Path}} and {{.EnvVarFile}})': (sb, v) => {
    const folder = join(sb.root, 'f', v);
    const script = renderShell(
      { inline: ['printf %s "$0" > "$HOME/out"'], remote_folder: folder, use_env_var_file: true },
      CTX(),
    );
    sb.run(script);
    return { got: sb.out(), want: `${folder}/script_0_0.sh`, script };
  },
  remote_path: (sb, v) => {
    const path = join(sb.root, 'p', `${asFileName(v)}.sh`);
    const script = renderShell(
      { inline: ['printf %s "$0" > "$HOME/out"'], remote_path: path, remote_folder: join(sb.root, 'p') },
      CTX(),
    );
    sb.run(script);
    return { got: sb.out(), want: path, script };
  },
  remote_file: (sb, v) => {
    const name = asFileName(v);
    const script = renderShell(
      { inline: ['printf %s "$0" > "$HOME/out"'], remote_file: name, remote_folder: sb.root },
      CTX(),
    );
    sb.run(script);
    return { got: sb.out(), want: `${sb.root}/${name}`, script };
  },
  'inline body line (heredoc transport)': (sb, v) => {
    const script = renderShell({ inline: ['exit 0', v], remote_folder: sb.root, skip_clean: true }, CTX());
    sb.run(script);
    return { got: readFileSync(join(sb.root, 'script_0_0.sh'), 'utf8'), want: `#!/bin/sh -e\nexit 0\n${v}\n`, script };
  },
  'script name in the failure message': (sb, v) => {
    const source = join(sb.root, 'fails.sh');
    writeFileSync(source, '#!/bin/sh\nexit 3\n');
    const name = `scripts/${asFileName(v)}`;
    const files = new Map([
      [name, { path: name, directory: false, entries: [{ subPath: '', url: `stub:${source}` }] }],
    ]);
    const script = renderShell({ scripts: [name], remote_folder: sb.root }, CTX({ files }));
    const r = sb.run(script);
    const prefix = `Script ${basename(name)} exited with non-zero exit status: `;
    return { got: r.stderr.slice(0, prefix.length + 1), want: `${prefix}3`, script };
  },
  'file destination': (sb, v) => {
    const source = join(sb.root, 'payload.txt');
    writeFileSync(source, 'content');
    const destination = join(sb.root, 'dst', v);
    const files = new Map([
      ['a.txt', { path: 'a.txt', directory: false, entries: [{ subPath: '', url: `stub:${source}` }] }],
    ]);
    const script = renderFile({ source: 'a.txt', destination }, CTX({ files }));
    sb.run(script);
    return { got: readFileSync(destination, 'utf8'), want: 'content', script };
  },
  'file sources (upload into a directory)': (sb, v) => {
    const source = join(sb.root, 'payload.txt');
    writeFileSync(source, 'content');
    const name = `dir/${asFileName(v)}`;
    const files = new Map([
      [name, { path: name, directory: false, entries: [{ subPath: '', url: `stub:${source}` }] }],
    ]);
    const script = renderFile({ sources: [name], destination: `${sb.root}/dst/` }, CTX({ files }));
    sb.run(script);
    return { got: readFileSync(join(sb.root, 'dst', asFileName(v)), 'utf8'), want: 'content', script };
  },
  'file download source path': (sb, v) => {
    const dir = join(sb.root, 'src');
    mkdirSync(dir, { recursive: true });
    const source = join(dir, asFileName(v));
    writeFileSync(source, 'downloaded');
    const uploaded = join(sb.root, 'uploaded');
    const script = renderFile(
      { source, destination: 'out', direction: 'download' },
      CTX({ uploadUrl: `stub:${uploaded}` }),
    );
    sb.run(script);
    return { got: readFileSync(uploaded, 'utf8'), want: 'downloaded', script };
  },
  'shell-local environment_vars value': async (_sb, v) => {
    const r = await runShellLocal({
      buildName: 'b',
      builderType: 't',
      inline: ['printf %s "$V"'],
      environmentVars: [`V=${v}`],
    });
    return { got: r.outputTail, want: v };
  },
};

/** Positions where a hostile value cannot be carried at all and must be refused. */
const REFUSED: Record<string, (v: string) => unknown> = {
  'environment_vars name': (v) => renderShell({ inline: ['true'], environment_vars: [`${v}=1`] }, CTX()),
  'env map name': (v) => renderShell({ inline: ['true'], env: { [v]: '1' } }, CTX()),
  valid_exit_codes: (v) => renderShell({ inline: ['true'], valid_exit_codes: ['0', v] }, CTX()),
  'powershell env name': (v) => renderPowerShell({ inline: ['x'], environment_vars: [`${v}=1`] }, CTX()),
  'shell-local env name': (v) =>
    runShellLocal({ buildName: 'b', builderType: 't', inline: ['true'], environmentVars: [`${v}=1`] }),
};

/** Every payload goes through these positions; the others take the core payloads (keeps the file fast). */
const EVERY_PAYLOAD = new Set([
  'environment_vars value (default execute_command)',
  "nested sh -c '{{.Vars}} {{.Path}}'",
  'env file (use_env_var_file heredoc)',
  'remote_folder ({{.Path}} and {{.EnvVarFile}})',
  'file destination',
]);
const CORE = new Set([
  'command substitution',
  'backticks',
  "the reported $' exploit",
  '$& replacement pattern',
  'single-quote breakout',
  'double-quote breakout',
  'newline then command',
  'carriage return',
  'heredoc delimiter line',
  'Unicode quotes',
  'pre-escaped quotes',
  'very long value',
]);
const CASES = Object.keys(POSITIONS).flatMap((position) =>
  PAYLOADS.filter(([label]) => EVERY_PAYLOAD.has(position) || CORE.has(label)).map(
    ([label, payload]) => [position, label, payload] as const,
  ),
);

describe('hostile values through every shell value position', () => {
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => sb.dispose());

  it.each(CASES)('%s: %s is inert and arrives intact', async (position, _label, payload) => {
    const value = sb.arm(payload);
    const outcome = await (POSITIONS[position] as Position)(sb, value);
    expect(sb.pwned()).toBe(false);
    expect(outcome.got).toBe(outcome.want);
  });
});

describe('inline_shebang', () => {
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => sb.dispose());

  it.each(PAYLOADS)('%s in inline_shebang reaches the first line intact, or is refused with a newline', (_l, p) => {
    const value = sb.arm(p);
    const config = { inline: ['exit 0'], inline_shebang: `/bin/sh ${value}`, remote_folder: sb.root, skip_clean: true };
    if (/[\r\n]/.test(value)) {
      expect(() => renderShell(config, CTX())).toThrow(/inline_shebang .* must be one line/);
      return;
    }
    sb.run(renderShell(config, CTX()));
    expect(sb.pwned()).toBe(false);
    expect(readFileSync(join(sb.root, 'script_0_0.sh'), 'utf8').split('\n')[0]).toBe(`#!/bin/sh ${value}`);
  });
});

describe('values that cannot be carried are refused', () => {
  const refusals = Object.keys(REFUSED).flatMap((position) =>
    PAYLOADS.filter(([, payload]) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(payload)).map(
      ([label, payload]) => [position, label, payload.replace(/@M@/g, () => '/tmp/kiln-never')] as const,
    ),
  );
  it.each(refusals)('%s: %s is refused', async (position, _label, payload) => {
    await expect(async () => (REFUSED[position] as (v: string) => unknown)(payload)).rejects.toThrow(
      ProvisionerFailedError,
    );
  });

  it.each([
    ['environment_vars value', () => renderShell({ inline: ['true'], environment_vars: ['V=a\0b'] }, CTX())],
    ['env map value', () => renderShell({ inline: ['true'], env: { V: 'a\0b' } }, CTX())],
    ['remote_folder', () => renderShell({ inline: ['true'], remote_folder: '/tmp/a\0b' }, CTX())],
    ['remote_path', () => renderShell({ inline: ['true'], remote_path: '/tmp/a\0b' }, CTX())],
    ['inline_shebang', () => renderShell({ inline: ['true'], inline_shebang: '/bin/sh\0' }, CTX())],
    ['build name', () => renderShell({ inline: ['true'], remote_folder: '/tmp' }, CTX({ buildName: 'a\0b' }))],
    [
      'file destination',
      () => renderFile({ source: 'a', destination: '/tmp/a\0b', direction: 'download' }, CTX({ uploadUrl: 'u' })),
    ],
    ['powershell value', () => renderPowerShell({ inline: ['x'], environment_vars: ['V=a\0b'] }, CTX())],
    ['shq', () => shq('a\0b')],
    ['psq', () => psq('a\0b')],
  ])('a NUL byte in %s is refused', (_what, render) => {
    expect(render).toThrow(/NUL/);
  });

  it.each([
    ['single-quoted {{.Path}} with a hostile path', "sh '{{.Path}}'"],
    ['double-quoted {{.Path}}', 'sh "{{.Path}}"'],
    ['{{.Path}} in backticks', 'x=`cat {{.Path}}`'],
    ['{{.Vars}} in a comment', '{{.Path}} # {{.Vars}}'],
  ])('execute_command with %s is refused rather than guessed', (_what, execute_command) => {
    expect(() =>
      renderShell(
        { inline: ['true'], environment_vars: ['V=1'], remote_path: "/tmp/x'; touch y; '", execute_command },
        CTX(),
      ),
    ).toThrow(ProvisionerFailedError);
  });

  it('refuses an env_var_format that leaves a quote open', () => {
    expect(() => flattenEnvVars([['V', 'x']], "%s='%s ")).toThrow(/leaves a quote open/);
  });
});

describe('PowerShell (checked against the language spec reader, not a real PowerShell)', () => {
  const lineWith = (lines: readonly string[], prefix: string) => {
    const line = lines.find((l) => l.startsWith(prefix));
    if (!line) throw new Error(`no line starting with ${prefix}`);
    return line;
  };
  it.each(PAYLOADS)('%s as an environment value is one literal that reads back exactly', (_l, payload) => {
    const lines = renderPowerShell({ inline: ['x'], environment_vars: [`V=${payload}`], env: { W: payload } }, CTX());
    for (const name of ['V', 'W']) {
      const line = lineWith(lines, `$env:${name} = `);
      const lit = readPsVerbatim(line, `$env:${name} = `.length);
      expect(lit.value).toBe(payload);
      expect(lit.end).toBe(line.length);
    }
  });

  it.each(PAYLOADS)('%s in a script name stays inside its literal', (_l, payload) => {
    const script = `s/${asFileName(payload)}`;
    const files = new Map([
      [script, { path: script, directory: false, entries: [{ subPath: '', url: 'https://u/' }] }],
    ]);
    const lines = renderPowerShell({ scripts: [script] }, CTX({ files }));
    const fetch = lineWith(lines, 'Invoke-WebRequest -UseBasicParsing -Uri ');
    const url = readPsVerbatim(fetch, 'Invoke-WebRequest -UseBasicParsing -Uri '.length);
    const rest = fetch.slice(url.end);
    expect(rest.startsWith(' -OutFile ')).toBe(true);
    const out = readPsVerbatim(rest, ' -OutFile '.length);
    // powershell has no remote_folder option: the remote path is Kiln's own, whatever the script is called.
    expect(out.value).toBe('C:/Windows/Temp/script-0-0.ps1');
    expect(out.end).toBe(rest.length);
    const check = lineWith(lines, 'if (@(0) -notcontains $kilnRc) { Write-Error (');
    const msg = readPsVerbatim(check, 'if (@(0) -notcontains $kilnRc) { Write-Error ('.length);
    expect(msg.value).toBe(`Script ${script} exited with non-zero exit status: `);
    expect(check.slice(msg.end)).toBe(' + $kilnRc); exit $kilnRc }');
  });
});

describe('validate reports what the renderer would refuse, with file, line and column', () => {
  const range = { file: 't.pkr.hcl', start: { line: 7, column: 5 }, end: { line: 7, column: 30 } };
  const vctx = { format: 'hcl' as const, templateDir: '/nonexistent', fileExists: () => true };
  const validate = (type: string, config: Record<string, unknown>, key: string) =>
    PROVISIONERS.get(type)?.validate(config, { [key]: range }, vctx) ?? [];

  it.each([
    [
      'shell',
      'environment_vars',
      { inline: ['x'], environment_vars: ['A;touch x;B=1'] },
      /not a valid environment variable name/,
    ],
    ['shell', 'env', { inline: ['x'], env: { 'A B': '1' } }, /not a valid environment variable name/],
    [
      'shell',
      'environment_vars',
      { inline: ['x'], environment_vars: ['1A=1'] },
      /not a valid environment variable name/,
    ],
    [
      'powershell',
      'environment_vars',
      { inline: ['x'], environment_vars: ['$(x)=1'] },
      /not a valid environment variable name/,
    ],
    [
      'shell-local',
      'environment_vars',
      { inline: ['x'], environment_vars: ['A-B=1'] },
      /not a valid environment variable name/,
    ],
    ['shell', 'valid_exit_codes', { inline: ['x'], valid_exit_codes: ['0;touch x'] }, /not a whole number/],
    ['shell', 'environment_vars', { inline: ['x'], environment_vars: ['V=a\0b'] }, /NUL byte/],
    ['shell', 'remote_folder', { inline: ['x'], remote_folder: '/tmp/\0' }, /NUL byte/],
    ['file', 'destination', { source: 'a', destination: '/tmp/\0' }, /NUL byte/],
    ['powershell', 'inline', { inline: ['Write-Host "\0"'] }, /NUL byte/],
  ] as const)('%s %s', (type, key, config, message) => {
    const found = validate(type, config, key).filter((d) => message.test(d.summary));
    expect(found).toHaveLength(1);
    expect(found[0]?.severity).toBe('error');
    expect(found[0]?.range).toEqual(range);
  });

  it('accepts ordinary identifiers', () => {
    const ds = validate(
      'shell',
      { inline: ['x'], environment_vars: ['_A1=x y', 'PATH=/bin'], env: { B_2: 'z' } },
      'env',
    );
    expect(ds.filter((d) => d.severity === 'error')).toEqual([]);
  });
});

describe('shellcheck on rendered scripts', () => {
  it('finds nothing at warning level in scripts carrying every payload (one shellcheck run)', async () => {
    const sb = makeSandbox();
    try {
      const positions = ['environment_vars value (default execute_command)', 'env file (use_env_var_file heredoc)'];
      const scripts: string[] = [];
      for (const [, p] of PAYLOADS.filter(([l]) => l !== 'Unicode quotes')) {
        for (const position of positions) {
          scripts.push((await (POSITIONS[position] as Position)(sb, sb.arm(p))).script ?? '');
        }
      }
      expect(scripts).toHaveLength((PAYLOADS.length - 1) * positions.length);
      expect(shellcheck(scripts, sb.root)).toBe('');
    } finally {
      sb.dispose();
    }
    // One shellcheck over ~72 scripts: generous for a loaded shared machine (it took 62 s under load 30).
  }, 300_000);
});
