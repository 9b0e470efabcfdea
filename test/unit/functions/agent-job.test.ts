/**
 * PrepareBuild's staging for agent builds (functions/common/prepare-build/agent-job.ts) and EnqueueAgentJob's
 * job (functions/agent-gateway/enqueue/job-input.ts), crossing the gateway contract's job document schema: the
 * bundle holds the template's folder without the request's var files, the same inputs give the same bytes, a
 * link out of the root never reaches it, and the variables (secrets included) go only to the secrets/ document.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentJobPayloadSchema, agentJobVariablesSchema } from '../../../aws/agent-gateway-contract.ts';
import type { BuildPlan, PlannedBuild } from '../../../core/plan/types.ts';
import { jobInputFor } from '../../../functions/agent-gateway/enqueue/job-input.ts';
import { stageAgentJob } from '../../../functions/common/prepare-build/agent-job.ts';
import { VAR_FILES_FOLDER } from '../../../functions/common/prepare-build/fetch-template.ts';

const SECRET = 'hunter2-never-in-the-bundle';

const build = (name: string, driver: PlannedBuild['driver'], builderType: string): PlannedBuild =>
  ({
    name,
    driver,
    builderType,
    config: {},
    provisioners: [],
    postProcessors: [],
    summary: {},
    sensitivePaths: [],
  }) as unknown as PlannedBuild;

const planOf = (...builds: PlannedBuild[]): BuildPlan =>
  ({ version: 1, format: 'json', templatePath: 'x', builds, files: [], warnings: [] }) as unknown as BuildPlan;

describe('stageAgentJob', () => {
  let base: string;
  let root: string;
  const s3 = mockClient(S3Client);
  const deps = { s3: new S3Client({ region: 'us-east-1' }), artifactsBucket: 'artifacts', dataKeyId: 'key-1' };
  beforeEach(() => {
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    base = mkdtempSync(join(tmpdir(), 'kiln-agent-job-'));
    root = join(base, 'root');
    mkdirSync(join(root, 'http'), { recursive: true });
    mkdirSync(join(root, VAR_FILES_FOLDER));
    writeFileSync(join(root, 'vmware.json'), '{"builders":[{"type":"vmware-iso"}]}');
    writeFileSync(join(root, 'http', 'preseed.cfg'), 'd-i debian-installer/locale string en_US\n');
    writeFileSync(join(root, 'prod.json'), `{"password": "${SECRET}"}`);
    writeFileSync(join(root, VAR_FILES_FOLDER, '0-prod.json'), `{"password": "${SECRET}"}`);
    writeFileSync(join(base, 'outside.txt'), SECRET);
    symlinkSync(join(base, 'outside.txt'), join(root, 'leak.txt'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const stage = (plan: BuildPlan) =>
    stageAgentJob(
      deps,
      'kb-1',
      {
        root,
        templatePath: join(root, 'vmware.json'),
        leaveOut: ['prod.json'],
        vars: [['user', 'packer']],
        varFiles: [join(root, VAR_FILES_FOLDER, '0-prod.json')],
        redact: [SECRET, ''],
      },
      plan,
      [],
    );
  const put = (key: string) =>
    s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === key)?.args[0].input;

  it('stages nothing for a plan without agent builds', async () => {
    const plan = planOf(build('amazon-ebs', 'ec2-ami', 'amazon-ebs'));
    expect(await stage(plan)).toBe(plan);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('packs the template folder without var files or links out, the same bytes every time', async () => {
    const plan = await stage(planOf(build('vmware-iso', 'agent', 'vmware-iso'), build('a', 'ec2-ami', 'amazon-ebs')));
    const job = (plan.builds[0] as { agentJob?: unknown }).agentJob as { bundle: { key: string; sha256: string } };
    expect(job).toMatchObject({
      templatePath: 'vmware.json',
      only: 'vmware-iso',
      bundle: { key: 'builds/kb-1/files/.kiln/agent-template.tar.gz' },
      variablesKey: 'secrets/kb-1/agent-variables.json',
    });
    expect((plan.builds[1] as { agentJob?: unknown }).agentJob).toBeUndefined();
    const body = put(job.bundle.key)?.Body as Buffer;
    expect(createHash('sha256').update(body).digest('hex')).toBe(job.bundle.sha256);
    const tar = gunzipSync(body).toString('latin1');
    expect(tar).toContain('vmware.json');
    expect(tar).toContain('http/preseed.cfg');
    expect(tar).not.toContain(SECRET);
    expect(tar).not.toContain('prod.json');
    s3.resetHistory();
    const again = await stage(planOf(build('vmware-iso', 'agent', 'vmware-iso')));
    expect((again.builds[0] as { agentJob?: { bundle: { sha256: string } } }).agentJob?.bundle.sha256).toBe(
      job.bundle.sha256,
    );
  });

  it('writes the variables, secrets included, only to the KMS-encrypted document under secrets/', async () => {
    await stage(planOf(build('vmware-iso', 'agent', 'vmware-iso')));
    const doc = put('secrets/kb-1/agent-variables.json');
    expect(doc).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'key-1' });
    expect(agentJobVariablesSchema.parse(JSON.parse(String(doc?.Body)))).toEqual({
      varFiles: [{ name: '0-prod.json', content: `{"password": "${SECRET}"}` }],
      vars: [['user', 'packer']],
      redact: [SECRET],
    });
  });

  it('gives EnqueueAgentJob a job the contract accepts, and refuses a build that has none staged', async () => {
    const plan = await stage(planOf(build('vmware-iso', 'agent', 'vmware-iso')));
    const state = {
      buildId: 'kb-1',
      executionName: 'e',
      planKey: 'builds/kb-1/plan.json',
      index: 0,
      name: 'vmware-iso',
      driver: 'agent' as const,
      created: [],
    };
    const job = jobInputFor({ taskToken: 'token', state }, plan.builds[0] as PlannedBuild, 'json');
    expect(job).toMatchObject({ buildId: 'kb-1', build: 'vmware-iso', builderType: 'vmware-iso', labels: [] });
    expect(agentJobPayloadSchema.parse(job.payload)).toMatchObject({ version: 1, format: 'json' });
    expect(() =>
      jobInputFor({ taskToken: 'token', state }, build('vmware-iso', 'agent', 'vmware-iso'), 'json'),
    ).toThrow(/has no staged agent job/);
  });
});
