import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isRenderError,
  type LegacyContext,
  type LegacyRenderResult,
  renderLegacy,
  renderLegacyAsync,
} from '../../../../core/template/legacy/index.ts';

const NOW = new Date(Date.UTC(2024, 2, 5, 7, 8, 9, 120));
const ctx: LegacyContext = {
  mode: 'offline',
  userVariables: { name: 'web app', region: 'eu-west-1', csv: 'a,b,c' },
  now: NOW,
  templateDir: '/templates/x',
  pwd: '/work',
  buildName: 'web',
  buildType: 'amazon-ebs',
  uuid: () => '00000000-0000-4000-8000-000000000001',
  packerVersion: '1.16.0',
};

function value(r: LegacyRenderResult): string {
  if (isRenderError(r)) throw new Error(`unexpected error: ${r.error}`);
  return r.value;
}

describe('renderLegacy: functions', () => {
  it.each([
    ['plain text', 'no actions here', 'no actions here'],
    ['user (backquotes)', 'n={{user `name`}}', 'n=web app'],
    ['user (double quotes)', '{{ user "region" }}', 'eu-west-1'],
    ['user unset outside variables is empty', '[{{ user `nope` }}]', '[]'],
    ['timestamp', '{{timestamp}}', String(Math.floor(NOW.getTime() / 1000))],
    ['isotime default RFC3339', '{{isotime}}', '2024-03-05T07:08:09Z'],
    ['isotime layout', '{{isotime "2006-01-02"}}', '2024-03-05'],
    ['isotime names', '{{ isotime "Mon Jan _2 3:04PM MST" }}', 'Tue Mar  5 7:08AM UTC'],
    ['isotime fraction', '{{ isotime "05.000" }}', '09.120'],
    ['strftime', '{{ strftime "%Y%m%d-%H%M%S" }}', '20240305-070809'],
    ['uuid', '{{ uuid }}', '00000000-0000-4000-8000-000000000001'],
    ['pwd', '{{ pwd }}', '/work'],
    ['template_dir', '{{template_dir}}/x.sh', '/templates/x/x.sh'],
    ['build_name', '{{ build_name }}', 'web'],
    ['build_type', '{{ build_type }}', 'amazon-ebs'],
    ['packer_version', '{{ packer_version }}', '1.16.0'],
    ['split', '{{ split "a-b-c" "-" 1 }}', 'b'],
    ['split of user', '{{ split (user `csv`) "," 2 }}', 'c'],
    ['replace n', '{{ replace "a" "b" 2 "aaaa" }}', 'bbaa'],
    ['replace all with -1', '{{ replace "a" "b" -1 "aaaa" }}', 'bbbb'],
    ['replace_all', '{{ replace_all "-" "_" "a-b-c" }}', 'a_b_c'],
    ['upper', '{{ upper `abc` }}', 'ABC'],
    ['lower', '{{ lower "ABC" }}', 'abc'],
    ['clean_resource_name (amazon)', '{{ clean_resource_name "my:image{1}" }}', 'my-image-1-'],
    ['pipeline', '{{ "x" | upper }}', 'X'],
    ['pipeline chain', '{{ user `name` | upper | lower }}', 'web app'],
    ['pipeline into replace_all', '{{ isotime "2006-01-02 15:04" | replace_all ":" "-" }}', '2024-03-05 07-08'],
    ['print', '{{ print "a" 1 2 "b" }}', 'a1 2b'],
    ['printf', '{{ printf "%s-%d" "x" 3 }}', 'x-3'],
    ['comment', 'a{{/* hidden */}}b', 'ab'],
    ['trim both sides', 'a  \n {{- "b" -}} \n c', 'abc'],
    ['escapes in quoted strings', '{{ "tab\\there" }}', 'tab\there'],
  ])('%s', (_name, text, want) => {
    expect(value(renderLegacy(text, ctx))).toBe(want);
  });

  it('uses the google rules for googlecompute', () => {
    const gce = { ...ctx, buildType: 'googlecompute' };
    expect(value(renderLegacy('{{ clean_resource_name "My_Image.2024" }}', gce))).toBe('my-image-2024');
  });
});

describe('renderLegacy: run-time data stays in place', () => {
  it.each([
    ['component fields', 'chmod +x {{ .Path }}; {{.Vars}} {{ .Path }}'],
    ['HTTP fields', 'http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg'],
    ['build data', 'echo {{ build `ID` }} {{build "SSHPublicKey"}}'],
    ['control structures', '{{if .Sudo}}sudo {{end}}sh {{.Path}}'],
    ['template variables', '{{ $x := .Name }}'],
  ])('%s', (_name, text) => {
    expect(value(renderLegacy(text, ctx))).toBe(text);
  });

  it('renders functions around kept fields', () => {
    expect(value(renderLegacy('{{user `region`}} {{ .WinRMPassword }}', ctx))).toBe('eu-west-1 {{ .WinRMPassword }}');
  });

  it('uses context data when the context supplies it', () => {
    const withData = { ...ctx, data: { Path: '/tmp/script.sh', Vars: 'A=1' }, buildData: { ID: 'i-123' } };
    expect(value(renderLegacy('{{.Vars}} {{ .Path }} {{ build `ID` }}', withData))).toBe('A=1 /tmp/script.sh i-123');
  });
});

describe('renderLegacy: errors', () => {
  it.each([
    ['unknown function', '{{ xyz }}', 'function "xyz" not defined', 3],
    ['unknown function later', 'ok {{ user `a` | frob }}', 'function "frob" not defined', 17],
    ['unclosed action', 'a {{ user `x`', 'unclosed action', 2],
    ['unterminated quote', '{{ "abc }}', 'unterminated quoted string', 3],
    ['unterminated raw string', '{{ `abc }}', 'unterminated raw quoted string', 3],
    ['empty action', '{{ }}', 'missing value for command', 3],
    ['bad character', '{{ % }}', "unrecognized character in action: U+0025 '%'", 3],
    ['unclosed comment', '{{/* x', 'unclosed comment', 0],
    ['env outside variables', '{{ env `HOME` }}', 'error calling env: env vars are not allowed here', 3],
    ['split out of range', '{{ split "a" "-" 3 }}', 'error calling split: the substring 3 was unavailable', 3],
    ['wrong arg count', '{{ upper }}', 'wrong number of args for upper: want 1 got 0', 3],
    ['wrong arg type', '{{ split "a" "-" "1" }}', 'wrong type for value; expected int; got string', 3],
    ['isotime too many', '{{ isotime "a" "b" }}', 'error calling isotime: too many values, 1 needed: [a b]', 3],
    [
      'secret outside variables',
      '{{ aws_secretsmanager `x` }}',
      'error calling aws_secretsmanager: AWS Secrets Manager is only allowed',
      3,
    ],
    [
      'consul not supported',
      '{{ consul_key `a/b` }}',
      'error calling consul_key: consul_key is not supported by Kiln',
      3,
    ],
    ['vault not supported', '{{ vault `a` `b` }}', 'error calling vault: vault is not supported by Kiln', 3],
    ['sed deprecated', '{{ sed "s/a/b/" "a" }}', 'error calling sed: template function `sed` is deprecated', 3],
    ['build_name missing', '{{ build_name }}', 'error calling build_name: build_name not available', 3],
  ])('%s', (_name, text, message, offset) => {
    const noBuild = { ...ctx, buildName: undefined };
    const r = renderLegacy(text, _name === 'build_name missing' ? noBuild : ctx);
    expect(isRenderError(r)).toBe(true);
    if (!isRenderError(r)) return;
    expect(r.error.startsWith(message)).toBe(true);
    expect(r.offset).toBe(offset);
  });
});

describe('renderLegacy: variables section', () => {
  const vars: LegacyContext = { ...ctx, inVariables: true, env: { HOME: '/home/me' } };

  it('reads the environment', () => {
    expect(value(renderLegacy('{{ env `HOME` }}/x {{ env `UNSET` }}.', vars))).toBe('/home/me/x .');
  });

  it('reports an unset user variable so the caller can retry in order', () => {
    const r = renderLegacy('{{ user `later` }}', vars);
    expect(isRenderError(r) && r.error).toBe('error calling user: Error: variable not set: later');
  });

  it('keeps secrets as written offline and reports them as unknown', () => {
    const r = renderLegacy('p={{ aws_secretsmanager `app/db` `password` }}', vars);
    expect(r).toEqual({
      value: 'p={{ aws_secretsmanager `app/db` `password` }}',
      unknowns: ['aws_secretsmanager:app/db:password'],
    });
  });

  it('asks for secrets in pipeline mode, then uses them and marks them sensitive', () => {
    const pipeline: LegacyContext = { ...vars, mode: 'pipeline' };
    const first = renderLegacy('{{ aws_secretsmanager_raw `app/db` }}', pipeline);
    expect(!isRenderError(first) && first.pendingSecrets).toEqual([{ secretId: 'app/db', raw: true }]);
    const secrets = new Map([[JSON.stringify(['raw', 'app/db', null]), 's3cr3t']]);
    const second = renderLegacy('{{ aws_secretsmanager_raw `app/db` }}', { ...pipeline, secrets });
    expect(second).toEqual({ value: 's3cr3t', sensitive: ['s3cr3t'] });
  });

  it('propagates unknown user variables', () => {
    const r = renderLegacy('x-{{ user `pw` | upper }}', { ...vars, unknownUserVariables: new Set(['pw']) });
    expect(!isRenderError(r) && r.unknowns).toEqual(['user:pw']);
  });
});

describe('renderLegacy: never throws', () => {
  it('returns a value or an error with an offset inside the text', async () => {
    const piece = fc.constantFrom(
      '{{',
      '}}',
      '{{-',
      ' -}}',
      'user',
      '`a`',
      '"b"',
      '|',
      '(',
      ')',
      '.X',
      ' ',
      'upper',
      '$x',
      ':=',
      'x',
      '/*',
      '*/',
      '12',
      'if',
      'end',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), (parts) => {
        const text = parts.join('');
        const r = renderLegacy(text, ctx);
        if (isRenderError(r)) {
          expect(r.offset ?? 0).toBeGreaterThanOrEqual(0);
          expect(r.offset ?? 0).toBeLessThanOrEqual(text.length);
        } else {
          expect(typeof r.value).toBe('string');
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('renderLegacyAsync', () => {
  it('fetches the secrets a template needs, then renders with them', async () => {
    const calls: string[] = [];
    const r = await renderLegacyAsync(
      'u={{ aws_secretsmanager `db` `user` }} t={{ aws_secretsmanager_raw `tok` }}',
      { ...ctx, mode: 'pipeline', inVariables: true },
      {
        secretsManager: async (id, key) => {
          calls.push(`${id}/${key ?? ''}`);
          return id === 'db' ? 'admin' : 'T0K';
        },
      },
    );
    expect(r).toEqual({ value: 'u=admin t=T0K', sensitive: ['admin', 'T0K'] });
    expect(calls.sort()).toEqual(['db/user', 'tok/']);
  });

  it('reports a resolver failure as the function error', async () => {
    const r = await renderLegacyAsync(
      '{{ aws_secretsmanager `db` }}',
      { ...ctx, mode: 'pipeline', inVariables: true },
      {
        secretsManager: async () => {
          throw new Error('ResourceNotFoundException');
        },
      },
    );
    expect(r).toEqual({ error: 'error calling aws_secretsmanager: ResourceNotFoundException' });
  });
});
