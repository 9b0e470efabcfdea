import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadJsonTemplate, MAX_TEMPLATE_BYTES } from '../../../../core/frontends/json/index.ts';
import { isUnknown, type LoadOptions, type Template } from '../../../../core/template/model.ts';

const VALID = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/json/valid');
const NOW = new Date(Date.UTC(2024, 4, 6, 7, 8, 9));
const STAMP = String(NOW.getTime() / 1000);

async function loadFull(extra: Partial<LoadOptions> = {}): Promise<Template> {
  const result = await loadJsonTemplate('full.json', {
    cwd: VALID,
    env: { HOME: '/home/kiln' },
    now: NOW,
    varFiles: ['vars1.json', 'vars2.json'],
    vars: [
      ['from_cli', 'cli-one'],
      ['from_cli', 'cli-two'],
    ],
    ...extra,
  });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  if (!result.template) throw new Error('no template');
  return result.template;
}

describe('loadJsonTemplate: template metadata', () => {
  it('reads description, min version, files and directory', async () => {
    const t = await loadFull();
    expect(t.format).toBe('json');
    expect(t.description).toBe('full example');
    expect(t.minPackerVersion).toBe('1.5.0');
    expect(t.dir).toBe(VALID);
    expect(t.files).toEqual(['full.json', 'vars1.json', 'vars2.json']);
    expect(t.requiredPlugins).toEqual([]);
  });
});

describe('loadJsonTemplate: variables', () => {
  it('applies default < var-files in order < -var in order', async () => {
    const t = await loadFull();
    const byName = new Map(t.variables.map((v) => [v.name, v]));
    expect(byName.get('from_file')).toMatchObject({ value: 'file-two', valueSource: 'var-file:vars2.json' });
    expect(byName.get('from_cli')).toMatchObject({ value: 'cli-two', valueSource: 'var' });
    expect(byName.get('region')).toMatchObject({ value: 'us-east-1', valueSource: 'default', required: false });
  });

  it('renders variables that reference later variables, and env in defaults', async () => {
    const t = await loadFull();
    const byName = new Map(t.variables.map((v) => [v.name, v.value]));
    expect(byName.get('prefix')).toBe('kiln-us-east-1');
    expect(byName.get('home')).toBe('/home/kiln');
  });

  it('collects sensitive values', async () => {
    const t = await loadFull();
    expect(t.sensitiveValues).toEqual(['hunter2']);
    expect(t.variables.find((v) => v.name === 'password')?.sensitive).toBe(true);
  });

  it('reports a reference to a variable nobody sets', async () => {
    const files: Record<string, string> = {
      '/t/a.json': JSON.stringify({ variables: { a: '{{ user `missing` }}' }, builders: [{ type: 'null' }] }),
    };
    const r = await loadJsonTemplate('/t/a.json', { readFile: (p) => files[p] });
    expect(r.diagnostics.map((d) => d.summary)).toEqual([
      expect.stringContaining('Failed to interpolate "a": "{{ user `missing` }}"'),
    ]);
  });
});

describe('loadJsonTemplate: builds', () => {
  it('names builds in template order, the name defaulting to the type', async () => {
    const t = await loadFull();
    expect(t.builds.map((b) => [b.name, b.builderType, b.sourceName])).toEqual([
      ['kiln-ebs', 'amazon-ebs', 'kiln-ebs'],
      ['docker', 'docker', 'docker'],
    ]);
  });

  it('renders builder names with user variables; only/except keep matching the raw name, as in Packer', async () => {
    const files: Record<string, string> = {
      '/t/n.json': JSON.stringify({
        variables: { env: 'prod' },
        builders: [{ type: 'null', name: 'app-{{ user `env` }}' }],
        provisioners: [
          { type: 'shell-local', only: ['app-{{ user `env` }}'], inline: ['raw name matches'] },
          { type: 'shell-local', only: ['app-prod'], inline: ['rendered name does not'] },
        ],
      }),
    };
    const r = await loadJsonTemplate('/t/n.json', { readFile: (p) => files[p], only: ['app-prod'] });
    expect(r.diagnostics.map((d) => d.summary)).toEqual([
      "provisioner 2: 'only' specified builder 'app-prod' not found",
    ]);
    expect(r.template?.builds.map((b) => [b.name, b.sourceName])).toEqual([['app-prod', 'app-{{ user `env` }}']]);
    expect(r.template?.builds[0]?.provisioners.map((p) => p.config.inline)).toEqual([['raw name matches']]);
  });

  it('renders builder configuration with one clock, without type/name/_ keys', async () => {
    const [ebs] = (await loadFull()).builds;
    expect(ebs?.config).toEqual({
      region: 'us-east-1',
      ami_name: `kiln-us-east-1-${STAMP}`,
      tags: { Built: '2024-05-06', Stamp: STAMP, Build: 'kiln-ebs/amazon-ebs' },
      ssh_password: 'hunter2',
    });
    expect(Object.keys(ebs?.keyRanges ?? {})).toEqual(['region', 'ami_name', 'tags', 'ssh_password']);
    expect(ebs?.keyRanges?.ami_name?.start).toEqual({ line: 21, column: 7 });
  });

  it('filters provisioners by only/except and merges overrides', async () => {
    const [ebs, docker] = (await loadFull()).builds;
    expect(ebs?.provisioners.map((p) => p.config.inline)).toEqual([
      ['echo file-two cli-two'],
      ['ebs only'],
      ['generic'],
    ]);
    expect(docker?.provisioners.map((p) => p.type)).toEqual(['shell', 'file', 'shell']);
    expect(docker?.provisioners[2]?.config).toEqual({ inline: ['docker specific'], environment_vars: ['A=1'] });
  });

  it('keeps run-time placeholders and reads provisioner meta keys', async () => {
    const [ebs] = (await loadFull()).builds;
    expect(ebs?.provisioners[1]?.config.execute_command).toBe('sudo {{ .Vars }} sh {{ .Path }}');
    expect(ebs?.provisioners[0]).toMatchObject({ pauseBefore: '10s', maxRetries: 3, timeout: '5m' });
    expect(ebs?.provisioners[0]?.config).not.toHaveProperty('pause_before');
    expect(ebs?.errorCleanupProvisioner?.config.inline).toEqual(['echo cleanup kiln-ebs']);
  });

  it('builds post-processor chains per build', async () => {
    const [ebs, docker] = (await loadFull()).builds;
    expect(ebs?.postProcessors.map((c) => c.map((p) => p.type))).toEqual([['compress']]);
    expect(docker?.postProcessors.map((c) => c.map((p) => p.type))).toEqual([
      ['compress'],
      ['manifest'],
      ['docker-tag', 'docker-push'],
    ]);
    expect(docker?.postProcessors[2]?.[0]).toMatchObject({ name: 'tagger', config: { repository: 'r' } });
    expect(docker?.postProcessors[2]?.[1]).toMatchObject({ keepInputArtifact: true, config: {} });
  });

  it.each([
    [{ only: ['docker'] }, ['docker']],
    [{ only: ['kiln-*'] }, ['kiln-ebs']],
    [{ except: ['*-ebs'] }, ['docker']],
    [{ except: ['nothing'] }, ['kiln-ebs', 'docker']],
  ])('applies -only/-except %j', async (opts, names) => {
    const t = await loadFull(opts);
    expect(t.builds.map((b) => b.name)).toEqual(names);
  });

  it('-except naming a post-processor drops it and the rest of its chain', async () => {
    const t = await loadFull({ except: ['tagger'] });
    const docker = t.builds.find((b) => b.name === 'docker');
    expect(docker?.postProcessors.map((c) => c.map((p) => p.type))).toEqual([['compress'], ['manifest']]);
  });
});

describe('loadJsonTemplate: secrets', () => {
  it('offline: secret variables become unknown and the load says credentials are needed', async () => {
    const r = await loadJsonTemplate('secrets.json', { cwd: VALID });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.diagnostics.some((d) => d.severity === 'warning' && /needs AWS credentials/.test(d.summary))).toBe(true);
    const vars = new Map(r.template?.variables.map((v) => [v.name, v.value]));
    expect(isUnknown(vars.get('db_password'))).toBe(true);
    expect(isUnknown(vars.get('dsn'))).toBe(true);
    const inline = r.template?.builds[0]?.provisioners[0]?.config.inline as unknown[];
    expect(inline.every(isUnknown)).toBe(true);
  });

  it('pipeline: resolves through the resolver and redacts the values', async () => {
    const asked: [string, string | undefined][] = [];
    const r = await loadJsonTemplate('secrets.json', {
      cwd: VALID,
      resolvers: {
        secretsManager: async (id, key) => {
          asked.push([id, key]);
          return id === 'app/db' ? 'pw-1' : 'token-2';
        },
      },
    });
    expect(r.diagnostics).toEqual([]);
    expect(asked.sort()).toEqual([
      ['app/db', 'password'],
      ['app/token', undefined],
    ]);
    expect(r.template?.builds[0]?.provisioners[0]?.config.inline).toEqual([
      'echo postgres://app:pw-1@db',
      'echo token-2',
    ]);
    expect([...(r.template?.sensitiveValues ?? [])].sort()).toEqual(['pw-1', 'token-2']);
  });

  it('pipeline: a failing resolver is an error naming the secret', async () => {
    const r = await loadJsonTemplate('secrets.json', {
      cwd: VALID,
      resolvers: {
        secretsManager: async () => {
          throw new Error('AccessDeniedException');
        },
      },
    });
    expect(r.diagnostics.some((d) => d.severity === 'error' && /AccessDeniedException/.test(d.summary))).toBe(true);
  });
});

describe('loadJsonTemplate: limits and files', () => {
  it('refuses a 10 MB template with a diagnostic', async () => {
    const big = `{"builders":[{"type":"null","x":"${'a'.repeat(10 * 1024 * 1024)}"}]}`;
    const r = await loadJsonTemplate('/big.json', { readFile: () => big });
    expect(r.template).toBeUndefined();
    expect(r.diagnostics[0]?.summary).toBe('Template limit maxFileBytes exceeded');
    expect(r.diagnostics[0]?.detail).toContain(String(MAX_TEMPLATE_BYTES));
  });

  it('reports 100k levels of nesting as a syntax error', async () => {
    const deep = `{"builders":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const r = await loadJsonTemplate('/deep.json', { readFile: () => deep });
    expect(r.diagnostics[0]?.summary).toBe('Error parsing JSON: exceeded max depth');
  });

  it('reports a missing template file', async () => {
    const r = await loadJsonTemplate('nope.json', { cwd: VALID });
    expect(r.diagnostics[0]).toMatchObject({ severity: 'error', summary: 'Failed to read template' });
  });

  it('reports a missing var-file and a var-file with a non-string value', async () => {
    const files: Record<string, string> = {
      '/t/t.json': JSON.stringify({ builders: [{ type: 'null' }] }),
      '/t/v.json': '{\n  "a": 1\n}',
    };
    const r = await loadJsonTemplate('t.json', {
      cwd: '/t',
      readFile: (p) => files[p],
      varFiles: ['v.json', 'gone.json'],
    });
    expect(r.diagnostics.map((d) => [d.summary, d.range?.start.line])).toEqual([
      ['Error reading var-file: json: cannot unmarshal number into Go value of type string', 2],
      ['Could not read var-file "gone.json"', undefined],
    ]);
  });
});

describe('loadJsonTemplate: syntax only', () => {
  it('stops after decoding: a required variable passes, a decoding error still fails', async () => {
    const files: Record<string, string> = {
      '/t/r.json': JSON.stringify({ variables: { need: null }, builders: [{ type: 'null' }] }),
      '/t/b.json': JSON.stringify({ builders: [{ type: 'null' }], provisioners: 'x' }),
    };
    const readFile = (p: string) => files[p];
    const ok = await loadJsonTemplate('/t/r.json', { readFile, syntaxOnly: true });
    expect(ok.diagnostics).toEqual([]);
    const full = await loadJsonTemplate('/t/r.json', { readFile });
    expect(full.diagnostics.map((d) => d.summary)).toEqual(['required variable not set: need']);
    const broken = await loadJsonTemplate('/t/b.json', { readFile, syntaxOnly: true });
    expect(broken.diagnostics.map((d) => d.summary)).toEqual([
      "'provisioners': source data must be an array or slice, got string",
    ]);
  });
});

describe('loadJsonTemplate: never throws', () => {
  it('returns diagnostics for arbitrary input', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.json(),
          fc
            .record({
              builders: fc.array(fc.record({ type: fc.string(), name: fc.option(fc.string()) }), { maxLength: 3 }),
              provisioners: fc.array(
                fc.dictionary(fc.constantFrom('type', 'only', 'except', 'inline'), fc.jsonValue()),
                {
                  maxLength: 3,
                },
              ),
              'post-processors': fc.array(fc.jsonValue(), { maxLength: 3 }),
            })
            .map((o) => JSON.stringify(o)),
        ),
        async (text) => {
          const r = await loadJsonTemplate('/f.json', { readFile: () => text, now: new Date(0) });
          expect(r.template !== undefined || r.diagnostics.length > 0).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
