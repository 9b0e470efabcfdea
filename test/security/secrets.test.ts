/**
 * Hostile cases for "a template upload is untrusted input", part secrets: a marker secret and its encodings must
 * not survive into plan.json, SendCommand parameters, the manifest, tags, errors, logs or CLI messages; the
 * uploader may read only secrets inside the deployer's prefix; shell-local sees no credentials.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { bufferedIO } from '../../cli/io.ts';
import { runValidate } from '../../cli/validate.ts';
import { TemplateInvalidError } from '../../core/errors.ts';
import { sealPlan } from '../../core/plan/seal.ts';
import type { BuildPlan, PlannedBuild } from '../../core/plan/types.ts';
import { formsOf, redactForLog, redactText, redactValue, unsealValue } from '../../core/template/sensitive.ts';
import { executionManifest } from '../../functions/common/finalize/manifest.ts';
import { checkSecretScope } from '../../functions/common/prepare-build/resolvers.ts';
import { runShellLocal } from '../../functions/common/shell-local/run-shell-local.ts';
import { deliver } from '../../functions/lib/commands/one-shot.ts';
import { encodings } from './encodings.ts';

/** The marker: mixed case, a quote, a space, a slash, an ampersand and a non-ASCII letter, so every encoding differs. */
const MARKER = "Kiln-Marker/s3cr\u00e9t 'q' & x=1";

/** How each form appears in real text: embedded mid-string, as an HCL function's output would be. */
function embed(name: string, form: string): string {
  if (name.startsWith('base64 embedded') || name.startsWith('base64 url-safe embedded')) {
    const k = name.includes('+1') ? 1 : 2;
    const whole = Buffer.concat([Buffer.from('ABC'.slice(0, k)), Buffer.from(MARKER, 'utf8'), Buffer.from('tail')]);
    const enc = whole.toString('base64');
    return name.includes('url-safe') ? enc.replace(/\+/g, '-').replace(/\//g, '_') : enc;
  }
  return `before ${form} after`;
}

const ENC = encodings(MARKER);
const CASES = Object.entries(ENC).map(([name, form]) => [name, form, embed(name, form)] as const);

/** Which encodings of the marker appear in a text (empty = none leaked). */
function leaks(text: string): string[] {
  return Object.entries(ENC)
    .filter(([name, form]) => {
      if (text.includes(form)) return true;
      // For the alignment forms, the form itself is the secret-only part: present in `text` means a leak.
      return name.startsWith('base64 embedded') && text.includes(form);
    })
    .map(([name]) => name);
}

describe('redaction covers derived encodings (core/template/sensitive.ts, the one redaction module)', () => {
  it('the embedded fixtures really contain the encoded marker (the cases below can fail)', () => {
    for (const [name, form, text] of CASES) expect(text.includes(form), name).toBe(true);
  });

  it.each(CASES)('redactText hides the %s form', (_name, _form, text) => {
    const out = redactText(text, [MARKER]);
    expect(leaks(out)).toEqual([]);
    expect(out).toContain('<sensitive>');
  });

  it.each(CASES)('a handler error message with the %s form is redacted', (_name, _form, text) => {
    const err = new Error(`provisioner failed: ${text}`);
    expect(leaks(redactText(err.message, [MARKER]))).toEqual([]);
  });

  it('logs never show vars or secret-looking keys', () => {
    const event = { input: { vars: { db: MARKER } }, nested: { api_token: MARKER } };
    expect(leaks(JSON.stringify(redactForLog(event)))).toEqual([]);
  });

  it('short values are not redacted (no destroying of every message), long ones are', () => {
    expect(redactText('exit 1', ['1'])).toBe('exit 1');
    expect(formsOf([MARKER]).length).toBeGreaterThan(10);
  });
});

function plannedBuild(text: string): PlannedBuild {
  return {
    name: 'amazon-ebs.x',
    builderType: 'amazon-ebs',
    driver: 'ec2-ami',
    config: { ami_name: `img-${text}`, tags: { Secret: text }, run_tags: { t: text }, region: 'us-east-1' },
    provisioners: [
      {
        index: 0,
        type: 'shell',
        config: { environment_vars: [`DB=${text}`], inline: [`echo "${text}" > /tmp/x`] },
        files: [],
        maxRetries: 0,
      },
    ],
    postProcessors: [[{ type: 'manifest', config: { custom_data: { k: text } }, keepInputArtifact: false }]],
    summary: { amiName: `img-${text}` },
    ami: { name: `img-${text}`, region: 'us-east-1', copyRegions: [] },
    sensitivePaths: [],
  };
}

function planFor(text: string): BuildPlan {
  return {
    version: 1,
    format: 'hcl',
    templatePath: '/t',
    builds: [plannedBuild(text)],
    files: [],
    warnings: [{ severity: 'warning', summary: `w ${text}` }],
  };
}

describe('plan.json holds no sensitive value (sealPlan)', () => {
  it.each(CASES)('the stored plan hides the %s form everywhere', (_name, _form, text) => {
    const { plan } = sealPlan(planFor(text), [MARKER], 'nonce1');
    expect(leaks(JSON.stringify(plan))).toEqual([]);
  });

  it.each(CASES)('a provisioner gets the %s form back, exactly, only when unsealed', (_name, _form, text) => {
    const { plan, table } = sealPlan(planFor(text), [MARKER], 'nonce1');
    const p = plan.builds[0]?.provisioners[0];
    expect(unsealValue(p?.config, table)).toEqual({
      environment_vars: [`DB=${text}`],
      inline: [`echo "${text}" > /tmp/x`],
    });
  });

  it('tags, AMI names and custom_data say <sensitive>, not a placeholder or the value', () => {
    const { plan } = sealPlan(planFor(MARKER), [MARKER], 'nonce1');
    const b = plan.builds[0] as PlannedBuild;
    expect(b.config.tags).toEqual({ Secret: '<sensitive>' });
    expect(b.config.ami_name).toBe('img-<sensitive>');
    expect(JSON.stringify(b.postProcessors)).toContain('<sensitive>');
  });

  it('a template cannot forge a placeholder of another nonce into a value', () => {
    const { table } = sealPlan(planFor(MARKER), [MARKER], 'realnonce');
    expect(unsealValue('<kiln-sensitive:guess:0>', table)).toBe('<kiln-sensitive:guess:0>');
  });

  it.each(CASES)('the manifest custom_data with the %s form is redacted', (_name, _form, text) => {
    const { plan } = sealPlan(planFor(text), [MARKER], 'n');
    const manifest = executionManifest('uuid', [
      { name: 'amazon-ebs.x', images: [], finishedAt: new Date(0), build: plan.builds[0] },
    ]);
    expect(leaks(JSON.stringify(redactValue(manifest, [MARKER])))).toEqual([]);
    expect(leaks(JSON.stringify(manifest))).toEqual([]);
  });
});

describe('SendCommand parameters carry no secret (one-shot channel)', () => {
  const presign = async (method: string, bucket: string, key: string) =>
    `https://s3.local/${bucket}/${key}?m=${method}`;

  it.each(CASES)(
    'a script with the %s form goes to a one-shot object, the command is a bootstrap',
    async (_n, _f, text) => {
      const s3 = mockClient(S3Client);
      s3.on(PutObjectCommand).resolves({});
      const out = await deliver(
        { s3: new S3Client({ region: 'us-east-1' }), artifactsBucket: 'art', dataKeyId: 'key-1', presign },
        {
          buildId: 'kb-1',
          name: 'b0-p0-a0',
          document: 'AWS-RunShellScript',
          commands: ['set -e', `export DB='${text}'`, 'run'],
          secrets: [MARKER],
        },
      );
      expect(leaks(out.commands.join('\n'))).toEqual([]);
      expect(out.oneShotKey).toBe('secrets/kb-1/oneshot/b0-p0-a0');
      const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
      expect(put).toMatchObject({
        Key: 'secrets/kb-1/oneshot/b0-p0-a0',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'key-1',
      });
      expect(String(put?.Body)).toContain(text);
      expect(out.commands.join('\n')).toContain('m=DELETE');
    },
  );

  it('a script without secrets is sent as it is (no object)', async () => {
    const s3 = mockClient(S3Client);
    const out = await deliver(
      { s3: new S3Client({ region: 'us-east-1' }), artifactsBucket: 'art', presign },
      { buildId: 'kb-1', name: 'x', document: 'AWS-RunShellScript', commands: ['echo hi'], secrets: [MARKER] },
    );
    expect(out).toEqual({ commands: ['echo hi'] });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe('the CLI never prints a sensitive -var value', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sec-cli-'));
  const template = join(dir, 't.pkr.hcl');
  writeFileSync(
    template,
    [
      'variable "pw" {\n  type = number\n  sensitive = true\n}',
      'variable "m" {\n  type = map(string)\n  sensitive = true\n}',
      'variable "l" {\n  type = list(string)\n  sensitive = true\n}',
      'source "null" "x" { communicator = "none" }',
      'build { sources = ["source.null.x"] }',
    ].join('\n'),
  );
  const token = 'KilnCliMarker7781';
  it.each([
    ['type error (number)', [['pw', token]]],
    ['unparsable map', [['m', `{a = 1, ${token}`]]],
    ['an unknown reference in a map', [['m', token]]],
    ['a list with a bad element', [['l', `[${token}(`]]],
  ] as const)('%s', async (_label, vars) => {
    const io = bufferedIO({ cwd: dir });
    const code = await runValidate({ path: template, vars: vars as unknown as [string, string][] }, io);
    expect(code).toBe(1);
    const printed = io.stdout() + io.stderr();
    expect(printed).not.toContain(token);
    expect(printed).not.toContain(Buffer.from(token).toString('base64').slice(0, 12));
    expect(printed).toMatch(/var\.(pw|m|l)/);
  });
});

describe('secrets outside the deployer prefix are refused with how to allow them', () => {
  it.each([
    ['secret', 'prod/db-password'],
    ['secret', 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf'],
    ['secret', 'kilnx/foo'],
    ['secret', 'KILN/upper'],
    ['secret', '../kiln/x'],
    ['parameter', '/prod/db'],
    ['parameter', 'arn:aws:ssm:us-east-1:111122223333:parameter/prod/x'],
    ['parameter', '/kilnish/x'],
  ] as const)('%s "%s"', (kind, id) => {
    const call = () => checkSecretScope(kind, id, 'kiln/');
    expect(call).toThrow(TemplateInvalidError);
    expect(call).toThrow(/kiln:secretPrefix/);
  });

  it.each([
    ['secret', 'kiln/db'],
    ['secret', 'arn:aws:secretsmanager:us-east-1:111122223333:secret:kiln/db-AbCdEf'],
    ['parameter', '/kiln/app/token'],
  ] as const)('allows %s "%s" inside the prefix', (kind, id) => {
    expect(() => checkSecretScope(kind, id, 'kiln/')).not.toThrow();
  });
});

describe('shell-local cannot obtain credentials (isolated runner)', () => {
  it.each([
    ['its environment', 'env'],
    ["its parent's environment (/proc/$PPID/environ)", 'tr "\\0" "\\n" < /proc/$PPID/environ'],
    ['a variable the template passes (AWS_ACCESS_KEY_ID)', 'echo "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"'],
  ])('holds no AWS_* credentials in %s', async (_label, command) => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIAKILNPARENTKEY';
    process.env.AWS_SECRET_ACCESS_KEY = 'parent-secret-should-not-leak';
    try {
      const out = await runShellLocal({
        buildName: 'b',
        builderType: 'null',
        inline: [command],
        environmentVars: ['AWS_ACCESS_KEY_ID=AKIATEMPLATEKEY', 'OTHER=1'],
      });
      expect(out.ok).toBe(true);
      expect(out.outputTail).not.toMatch(/AWS_SECRET|AKIA|parent-secret/);
      if (command === 'env') expect(out.outputTail).toContain('OTHER=1');
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });

  it('bounds the output it returns', async () => {
    const out = await runShellLocal({ buildName: 'b', builderType: 'null', inline: ['yes x | head -c 200000'] });
    expect(out.outputTail.length).toBeLessThanOrEqual(16 * 1024);
  });

  it('the registry gives ShellLocal no AWS permission and RunProvisioner invokes it', async () => {
    const { KILN_FUNCTIONS } = await import('../../functions/registry.ts');
    const shellLocal = KILN_FUNCTIONS.find((f) => f.id === 'ShellLocal');
    expect(shellLocal?.permissions).toEqual([]);
    expect(KILN_FUNCTIONS.find((f) => f.id === 'RunProvisioner')?.invokes).toEqual([
      { id: 'ShellLocal', env: 'shellLocalFunction' },
    ]);
    expect(readFileSync(new URL('../../functions/common/shell-local/handler.ts', import.meta.url), 'utf8')).not.toMatch(
      /logger\.(info|debug)\(/,
    );
  });
});
