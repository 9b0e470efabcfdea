import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { checkDetail, type KilnEvent } from '../../../aws/events-contract.ts';
import { sourceFor } from '../../../functions/common/prepare-build/fetch-template.ts';
import { normalizeInput, prepareInputSchema } from '../../../functions/common/prepare-build/input.ts';
import { MAX_CAUSE_CHARS } from '../../../functions/common/prepare-build/invalid-cause.ts';
import { buildIdFor, type PrepareDeps, prepareBuild } from '../../../functions/common/prepare-build/prepare-build.ts';
import { awsResolvers } from '../../../functions/common/prepare-build/resolvers.ts';
import { stagePayloadSchema } from '../../../functions/lib/build-state.ts';
import type { StoredPlan } from '../../../functions/lib/plan-store.ts';
import { parseEvent } from '../../../functions/lib/wiring.ts';
import { body } from './fakes.ts';
import { prepareDeps } from './prepare-deps.ts';

const FIXTURES = new URL('../../fixtures/functions/prepare/web/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

function setup(templateName: string, content = fixture(templateName)) {
  const s3 = mockClient(S3Client);
  const ddb = mockClient(DynamoDBClient);
  s3.on(GetObjectCommand, { Bucket: 'templates', Key: `web/${templateName}` }).resolves({
    Body: body(content),
  });
  s3.on(GetObjectCommand, { Bucket: 'templates', Key: 'web/scripts/setup.sh' }).resolves({
    Body: body(fixture('scripts/setup.sh')),
  });
  s3.on(ListObjectsV2Command).resolves({
    Contents: [
      { Key: `web/${templateName}`, Size: 10 },
      { Key: 'web/scripts/setup.sh', Size: 21 },
    ],
  });
  const deps: PrepareDeps = prepareDeps({ dataKeyId: 'data-key-id' });
  const request = normalizeInput({ template: { bucket: 'templates', key: `web/${templateName}`, versionId: 'v7' } });
  return { s3, ddb, deps, run: () => prepareBuild(deps, request, 'exec-1') };
}

describe('prepareBuild with the real template engine', () => {
  /** A folder of .pkr.hcl files uploaded file by file, `uploaded` the object whose event starts this execution. */
  function folderUpload(uploaded: string) {
    const t = setup('ubuntu.pkr.hcl');
    const folder = new URL('../../fixtures/functions/prepare/folder/', import.meta.url);
    const names = ['build.pkr.hcl', 'sources.pkr.hcl', 'variables.pkr.hcl'];
    for (const name of names) {
      t.s3.on(GetObjectCommand, { Bucket: 'templates', Key: `site/${name}` }).resolves({
        Body: body(readFileSync(new URL(name, folder), 'utf8')),
      });
    }
    t.s3.on(ListObjectsV2Command, { Prefix: 'site/' }).resolves({
      Contents: names.map((n) => ({ Key: `site/${n}`, Size: 100 })),
    });
    const request = normalizeInput({ template: { bucket: 'templates', key: `site/${uploaded}`, versionId: 'v1' } });
    return prepareBuild(t.deps, request, `exec-${uploaded}`);
  }

  it('builds an HCL2 folder uploaded file by file as Packer builds the folder, once', async () => {
    const out = await folderUpload('build.pkr.hcl');
    expect(out.skipped).toBeNull();
    expect(out.builds).toMatchObject([{ name: 'amazon-ebs.web', driver: 'ec2-ami' }]);
    for (const other of ['variables.pkr.hcl', 'sources.pkr.hcl']) {
      const skipped = await folderUpload(other);
      expect(skipped.builds).toEqual([]);
      expect(skipped.skipped).toBe(
        `site/${other} declares no build: it is part of its folder's template, which builds when a file with a build block is uploaded`,
      );
    }
  });

  it('builds a bundle: extracted by version id, its one wrapping folder as root, scripts staged from inside', async () => {
    const t = setup('ubuntu.pkr.hcl');
    const scratch = mkdtempSync(join(tmpdir(), 'kiln-prepare-bundle-'));
    const archive = join(scratch, 'app.tgz');
    const entries = [
      { name: 'app/ubuntu.pkr.hcl', data: fixture('ubuntu.pkr.hcl') },
      { name: 'app/scripts/setup.sh', data: fixture('scripts/setup.sh') },
    ];
    const maker = new URL('../../fixtures/bundles/make_archive.py', import.meta.url).pathname;
    execFileSync('python3', [maker, 'tar.gz', archive], { input: JSON.stringify(entries) });
    const bytes = readFileSync(archive);
    rmSync(scratch, { recursive: true });
    t.s3.on(GetObjectCommand, { Bucket: 'templates', Key: 'web/app.tgz' }).resolves({
      ContentLength: bytes.length,
      Body: { transformToByteArray: async () => new Uint8Array(bytes) } as never,
    });
    const request = normalizeInput({ template: { bucket: 'templates', key: 'web/app.tgz', versionId: 'v9' } });
    const out = await prepareBuild(t.deps, request, 'exec-bundle');
    expect(out.builds).toMatchObject([{ index: 0, name: 'amazon-ebs.ubuntu', driver: 'ec2-ami' }]);
    expect(t.s3).toHaveReceivedCommandWith(GetObjectCommand, { Key: 'web/app.tgz', VersionId: 'v9' });
    // Nothing beside the bundle is listed or read: the archive is the whole template.
    expect(t.s3).not.toHaveReceivedCommand(ListObjectsV2Command);
    expect(t.s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: `builds/${out.buildId}/files/scripts/setup.sh`,
    });
  });

  it('reads the template by version, stages its script, stores the plan and records the build', async () => {
    const t = setup('ubuntu.pkr.hcl');
    const out = await t.run();
    const buildId = buildIdFor('exec-1');
    expect(out).toEqual({
      buildId,
      planKey: `builds/${buildId}/plan.json`,
      builds: [
        {
          index: 0,
          name: 'amazon-ebs.ubuntu',
          driver: 'ec2-ami',
          // The state the build's Map iteration starts with (the ASL passes it as is): the ec2-ami variant.
          state: {
            buildId,
            executionName: 'exec-1',
            planKey: `builds/${buildId}/plan.json`,
            index: 0,
            name: 'amazon-ebs.ubuntu',
            driver: 'ec2-ami',
            images: [],
            created: [],
          },
        },
      ],
      skipped: null,
    });
    // It is what every stage parses (the handler schema), unchanged.
    const first = out.builds[0]?.state;
    expect(parseEvent(stagePayloadSchema, { state: first }).state).toEqual(first);
    expect(t.s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: 'templates',
      Key: 'web/ubuntu.pkr.hcl',
      VersionId: 'v7',
    });
    expect(t.s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'kiln-artifacts',
      Key: `builds/${buildId}/files/scripts/setup.sh`,
      Tagging: 'kiln%3Aretention=staged',
    });
    // No write picks an encryption of its own: `aws:kms` without a key id would use the AWS-managed key, not the
    // bucket's customer-managed one.
    for (const call of t.s3.commandCalls(PutObjectCommand)) {
      const input = call.args[0].input;
      expect(input.ServerSideEncryption === undefined || input.SSEKMSKeyId !== undefined).toBe(true);
    }
    const planPut = t.s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === out.planKey)?.args[0].input;
    expect(planPut).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'data-key-id' });
    const stored = JSON.parse(String(planPut?.Body)) as StoredPlan;
    expect(stored.plan.builds[0]?.provisioners[0]?.files[0]?.relativePath).toBe('scripts/setup.sh');
    // The sensitive value lives only in the sealed object (the bucket's own key), never in plan.json.
    expect(stored.sealed).toBe(true);
    expect(String(planPut?.Body)).not.toContain('hunter2');
    const sealedPut = t.s3
      .commandCalls(PutObjectCommand)
      .find((c) => c.args[0].input.Key === `secrets/${buildId}/values.json`)?.args[0].input;
    expect(sealedPut).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'data-key-id' });
    expect(String(sealedPut?.Body)).toContain('hunter2-secret');
    expect(stored.template).toEqual({ bucket: 'templates', key: 'web/ubuntu.pkr.hcl', versionId: 'v7' });
    // The returned payload is small and holds no secret.
    expect(JSON.stringify(out)).not.toContain('hunter2');
    expect(t.ddb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 'kiln-builds',
      ConditionExpression: 'attribute_not_exists(buildId)',
    });
    const item = t.ddb.commandCalls(PutItemCommand)[0]?.args[0].input.Item;
    // The record lists the builds, not their states.
    expect(item?.builds).toEqual({
      L: [{ M: { index: { N: '0' }, name: { S: 'amazon-ebs.ubuntu' }, driver: { S: 'ec2-ami' } } }],
    });
    expect(item).toMatchObject({
      buildId: { S: buildId },
      templateVersion: { S: 'v7' },
      status: { S: 'RUNNING' },
      createdAt: { S: '2026-01-01T00:00:00.000Z' },
    });
  });

  it('records the variables with sensitive ones redacted, then emits Build Started; a refused event only warns', async () => {
    const t = setup('ubuntu.pkr.hcl');
    const sent: { event: KilnEvent; recordedBefore: number }[] = [];
    const warnings: unknown[] = [];
    const deps: PrepareDeps = {
      ...t.deps,
      events: async (events) => {
        for (const event of events) sent.push({ event, recordedBefore: t.ddb.commandCalls(PutItemCommand).length });
        return {
          sent: [],
          failed: [{ detailType: 'Kiln Build Started', code: 'AccessDeniedException', message: 'no' }],
        };
      },
      warn: (message, detail) => warnings.push([message, detail]),
    };
    const out = await prepareBuild(
      deps,
      normalizeInput({ template: { bucket: 'templates', key: 'web/ubuntu.pkr.hcl', versionId: 'v7' } }),
      'exec-1',
    );
    expect(out.skipped).toBeNull();
    const item = t.ddb.commandCalls(PutItemCommand)[0]?.args[0].input.Item;
    expect(JSON.parse(item?.variables?.S ?? '[]')).toEqual([
      { name: 'db_password', value: '<sensitive>', source: 'default' },
    ]);
    expect(JSON.stringify(item)).not.toContain('hunter2-secret');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.recordedBefore).toBe(1);
    const event = sent[0]?.event;
    expect(event?.detailType).toBe('Kiln Build Started');
    expect(() => checkDetail('Kiln Build Started', event?.detail)).not.toThrow();
    expect(event?.detail).toMatchObject({
      buildId: out.buildId,
      executionName: 'exec-1',
      template: { bucket: 'templates', key: 'web/ubuntu.pkr.hcl', versionId: 'v7' },
      registryTemplate: 'web/ubuntu',
      trigger: 'request',
      builds: [{ index: 0, name: 'amazon-ebs.ubuntu', driver: 'ec2-ami' }],
    });
    expect(JSON.stringify(event)).not.toContain('hunter2-secret');
    expect(warnings).toEqual([
      ['kiln event not delivered', { event: 'Kiln Build Started: AccessDeniedException: no' }],
    ]);
  });

  it('emits nothing for an invalid template or an upload that is not a template', async () => {
    const sent: KilnEvent[] = [];
    const events = async (e: readonly KilnEvent[]) => {
      sent.push(...e);
      return { sent: [], failed: [] };
    };
    const broken = setup('broken.pkr.hcl');
    await expect(
      prepareBuild(
        { ...broken.deps, events },
        normalizeInput({ template: { bucket: 'templates', key: 'web/broken.pkr.hcl' } }),
        'e',
      ),
    ).rejects.toThrow();
    const vars = setup('ubuntu.pkr.hcl');
    const out = await prepareBuild(
      { ...vars.deps, events },
      normalizeInput({ template: { bucket: 'templates', key: 'web/site.pkrvars.hcl' } }),
      'e2',
    );
    expect(out.skipped).not.toBeNull();
    expect(sent).toEqual([]);
  });

  it('is idempotent per execution: same buildId, and an existing record is left alone', async () => {
    const t = setup('ubuntu.pkr.hcl');
    t.ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    const first = await t.run();
    expect(first.buildId).toBe(buildIdFor('exec-1'));
    expect(buildIdFor('exec-1')).not.toBe(buildIdFor('exec-2'));
  });

  it('falls back to the raw event key when the URL-decoded one does not exist (a real "+" in the name)', async () => {
    const t = setup('ubuntu.pkr.hcl');
    t.s3
      .on(GetObjectCommand, { Bucket: 'templates', Key: 'web/a b.pkr.hcl' })
      .rejects(Object.assign(new Error('no'), { name: 'NoSuchKey' }));
    t.s3
      .on(GetObjectCommand, { Bucket: 'templates', Key: 'web/a+b.pkr.hcl' })
      .resolves({ Body: body(fixture('ubuntu.pkr.hcl')) });
    // The folder holds this template alone (another .pkr.hcl beside it would join it, as in Packer).
    t.s3.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: 'web/a+b.pkr.hcl', Size: 10 },
        { Key: 'web/scripts/setup.sh', Size: 21 },
      ],
    });
    const event = parseEvent(prepareInputSchema, {
      executionName: 'exec-3',
      input: {
        'detail-type': 'Object Created',
        detail: { bucket: { name: 'templates' }, object: { key: 'web/a+b.pkr.hcl' } },
      },
    });
    const out = await prepareBuild(t.deps, normalizeInput(event.input), event.executionName);
    expect(out.builds).toEqual([expect.objectContaining({ index: 0, name: 'amazon-ebs.ubuntu', driver: 'ec2-ami' })]);
    expect(t.s3).toHaveReceivedCommandWith(GetObjectCommand, { Key: 'web/a+b.pkr.hcl' });
  });

  it('fails with Kiln.TemplateInvalid carrying Packer-style file:line:col diagnostics, creating nothing', async () => {
    const t = setup('broken.pkr.hcl');
    const err = (await t.run().catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('Kiln.TemplateInvalid');
    expect(err.message).toContain('Unsupported argument');
    expect(err.message).toContain('line 7, column 3');
    expect(t.s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(t.ddb).not.toHaveReceivedCommand(PutItemCommand);
  });

  it('keeps the failure cause within the 32,768 characters Step Functions stores, whole diagnostics first', async () => {
    // 150 diagnostics (under the engine's own cap of 200) of ~500 characters each: ~75,000 characters.
    const unknown = Object.fromEntries(
      Array.from({ length: 150 }, (_, i) => [`not_an_option_${i}_${'x'.repeat(120)}`, 'y'.repeat(60)]),
    );
    const template = { builders: [{ type: 'amazon-ebs', ...unknown }] };
    const t = setup('many.json', JSON.stringify(template, null, 1));
    const err = (await t.run().catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('Kiln.TemplateInvalid');
    expect(err.message.length).toBeLessThanOrEqual(MAX_CAUSE_CHARS - 512);
    expect(err.message).toContain(`Unknown configuration key: "not_an_option_0_${'x'.repeat(120)}"`);
    expect(err.message).toMatch(/…and \d+ more errors not shown .* run `kiln validate`/);
    const shown = err.message.match(/Unknown configuration key/g)?.length ?? 0;
    const left = Number(/…and (\d+) more/.exec(err.message)?.[1]);
    // Every diagnostic is either shown whole or counted; none is cut in half.
    expect(shown).toBeGreaterThan(20);
    // The 150 unknown keys plus the options amazon-ebs requires and the template lacks.
    expect(shown + left).toBeGreaterThanOrEqual(150);
    expect(err.message.split('\n').at(-1)).toMatch(/^…and/);
  });
});

describe('template sources', () => {
  it.each([
    ['web/ubuntu.pkr.hcl', true],
    ['web/ubuntu.pkr.json', true],
    ['legacy/template.json', true],
    ['web/prod.pkrvars.hcl', false],
    ['web/prod.pkrvars.json', false],
    ['web/scripts/setup.sh', false],
  ] as const)('%s is a template: %s', (key, expected) => {
    if (expected) expect(sourceFor(key)).toBeDefined();
    else expect(() => sourceFor(key)).toThrow(expect.objectContaining({ name: 'Kiln.TemplateInvalid' }));
  });
});

describe('PrepareBuild input', () => {
  it('normalizes the EventBridge Object Created event (URL-encoded key, version id)', () => {
    const event = parseEvent(prepareInputSchema, {
      executionName: 'e',
      input: {
        version: '0',
        source: 'aws.s3',
        'detail-type': 'Object Created',
        detail: {
          bucket: { name: 'templates' },
          object: { key: 'web/my+app%2Bv2.pkr.hcl', 'version-id': 'v9', size: 10 },
        },
      },
    });
    expect(normalizeInput(event.input)).toMatchObject({
      template: { bucket: 'templates', key: 'web/my app+v2.pkr.hcl', versionId: 'v9' },
      trigger: 's3-upload',
    });
  });

  it('accepts vars as a map and rejects a malformed request with Kiln.InputInvalid', () => {
    const ok = parseEvent(prepareInputSchema, {
      executionName: 'e',
      input: { template: { bucket: 'b', key: 'k.pkr.hcl' }, vars: { a: 1 }, only: ['x'] },
    });
    expect(normalizeInput(ok.input)).toMatchObject({ vars: [['a', '1']], only: ['x'], trigger: 'request' });
    expect(() => parseEvent(prepareInputSchema, { executionName: 'e', input: { template: { bucket: '' } } })).toThrow(
      expect.objectContaining({ name: 'Kiln.InputInvalid' }),
    );
  });
});

describe('AWS resolvers', () => {
  it('reads a Secrets Manager key and remembers both the value and the raw secret as sensitive', async () => {
    const sm = mockClient(SecretsManagerClient);
    sm.on(GetSecretValueCommand, { SecretId: 'db' }).resolves({
      SecretString: '{"password":"s3cr3t-value","user":"app"}',
    });
    const sensitive: string[] = [];
    const r = awsResolvers(
      {
        ec2For: () => new EC2Client({}),
        ssm: new SSMClient({}),
        secrets: new SecretsManagerClient({}),
        homeRegion: 'us-east-1',
      },
      sensitive,
    );
    expect(await r.secretsManager?.('db', 'password')).toBe('s3cr3t-value');
    expect(sensitive).toEqual(['s3cr3t-value', '{"password":"s3cr3t-value","user":"app"}']);
    await expect(r.secretsManager?.('db', 'nope')).rejects.toMatchObject({ name: 'Kiln.TemplateInvalid' });
  });

  it('marks SecureString parameters sensitive but not plain ones', async () => {
    const ssm = mockClient(SSMClient);
    ssm.on(GetParameterCommand, { Name: '/a' }).resolves({ Parameter: { Value: 'plain', Type: 'String' } });
    ssm.on(GetParameterCommand, { Name: '/b' }).resolves({ Parameter: { Value: 'hidden', Type: 'SecureString' } });
    const sensitive: string[] = [];
    const r = awsResolvers(
      {
        ec2For: () => new EC2Client({}),
        ssm: new SSMClient({}),
        secrets: new SecretsManagerClient({}),
        homeRegion: 'us-east-1',
      },
      sensitive,
    );
    expect(await r.parameterStore?.('/a', false)).toBe('plain');
    expect(await r.parameterStore?.('/b', true)).toBe('hidden');
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: '/b', WithDecryption: true });
    expect(sensitive).toEqual(['hidden']);
  });
});

describe('PrepareBuild refuses what the deployment does not allow (KMS keys, instance profiles)', () => {
  const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const EU_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/5678abcd-12ab-34cd-56ef-1234567890ab';
  const OTHER = 'arn:aws:kms:us-east-1:111122223333:key/9999abcd-12ab-34cd-56ef-1234567890ab';
  const ALLOWED = { kmsKeyArns: [KEY, EU_KEY] };

  /** The fixture template with `extra` lines added at the end of the source block (line 13 onwards). */
  function withSourceLines(extra: string, deployment?: { kmsKeyArns: string[] }) {
    const t = setup('ubuntu.pkr.hcl');
    const text = fixture('ubuntu.pkr.hcl').replace(
      '  ssh_username  = "ubuntu"\n',
      `  ssh_username  = "ubuntu"\n${extra}`,
    );
    t.s3.on(GetObjectCommand, { Bucket: 'templates', Key: 'web/ubuntu.pkr.hcl' }).resolves({ Body: body(text) });
    const request = normalizeInput({ template: { bucket: 'templates', key: 'web/ubuntu.pkr.hcl', versionId: 'v7' } });
    const deps = { ...t.deps, ...(deployment ? { deployment } : {}) };
    return { ...t, run: () => prepareBuild(deps, request, 'exec-1') };
  }

  const refused: [string, string, { kmsKeyArns: string[] } | undefined, RegExp[]][] = [
    [
      'a key not in the allowed list',
      `  kms_key_id = "${OTHER}"\n  encrypt_boot = true\n`,
      ALLOWED,
      [/KMS key not allowed in "kms_key_id"/, /line 13, column 3/, /is not a key this Kiln deployment may use/],
    ],
    [
      'any key when the deployment allows none (the default)',
      `  kms_key_id = "${KEY}"\n  encrypt_boot = true\n`,
      undefined,
      [/This deployment allows none/, /kiln:kmsKeyArns/],
    ],
    [
      'an alias',
      '  kms_key_id = "alias/builds"\n  encrypt_boot = true\n',
      ALLOWED,
      [/is a KMS alias/, /use the key's ARN/],
    ],
    [
      'an alias ARN',
      '  kms_key_id = "arn:aws:kms:us-east-1:111122223333:alias/builds"\n  encrypt_boot = true\n',
      ALLOWED,
      [/is a KMS alias/],
    ],
    [
      'the bare id of an allowed key used in another region',
      '  kms_key_id = "5678abcd-12ab-34cd-56ef-1234567890ab"\n  encrypt_boot = true\n',
      ALLOWED,
      [/key id "5678abcd-12ab-34cd-56ef-1234567890ab" in us-east-1 is not a key/],
    ],
    [
      'a region key that is not allowed',
      `  ami_regions = ["eu-west-1"]\n  encrypt_boot = true\n  region_kms_key_ids = { "eu-west-1" = "${OTHER.replace('us-east-1', 'eu-west-1')}" }\n`,
      ALLOWED,
      [/KMS key not allowed in "region_kms_key_ids"/, /region_kms_key_ids\["eu-west-1"\]/, /line 15, column 3/],
    ],
    [
      "a launch block device's key",
      `  launch_block_device_mappings {\n    device_name = "/dev/sdf"\n    encrypted   = true\n    kms_key_id  = "${OTHER}"\n  }\n`,
      ALLOWED,
      [/launch_block_device_mappings \/dev\/sdf kms_key_id/, /line 13, column 3/],
    ],
    [
      'iam_instance_profile',
      '  iam_instance_profile = "admin-profile"\n',
      ALLOWED,
      [/Unsupported argument "iam_instance_profile" in the Kiln pipeline/, /line 13, column 3/, /builder role/],
    ],
    [
      'temporary_iam_instance_profile_policy_document',
      '  temporary_iam_instance_profile_policy_document {\n    Version = "2012-10-17"\n    Statement {\n      Effect = "Allow"\n      Action = ["s3:*"]\n      Resource = ["*"]\n    }\n  }\n',
      ALLOWED,
      [/Unsupported argument "temporary_iam_instance_profile_policy_document"/, /line 13, column 3/],
    ],
  ];
  it.each(refused)(
    'refuses %s with a Packer-style diagnostic, creating nothing',
    async (_name, extra, deployment, patterns) => {
      const t = withSourceLines(extra, deployment);
      const err = (await t.run().catch((e: unknown) => e)) as Error;
      expect(err.name).toBe('Kiln.TemplateInvalid');
      for (const p of patterns) expect(err.message).toMatch(p);
      expect(err.message).toContain('ubuntu.pkr.hcl');
      expect(t.s3).not.toHaveReceivedCommand(PutObjectCommand);
      expect(t.ddb).not.toHaveReceivedCommand(PutItemCommand);
    },
  );

  const accepted: [string, string][] = [
    ['an allowed key by ARN', `  kms_key_id = "${KEY}"\n  encrypt_boot = true\n`],
    [
      'an allowed key by its bare id in its region',
      '  kms_key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"\n  encrypt_boot = true\n',
    ],
    [
      'allowed region keys',
      `  ami_regions = ["eu-west-1"]\n  encrypt_boot = true\n  region_kms_key_ids = { "eu-west-1" = "${EU_KEY}" }\n`,
    ],
    ['encrypt_boot with the AWS-managed key (no key named)', '  encrypt_boot = true\n'],
  ];
  it.each(accepted)('accepts %s', async (_name, extra) => {
    const out = await withSourceLines(extra, ALLOWED).run();
    expect(out.builds).toHaveLength(1);
  });
});
