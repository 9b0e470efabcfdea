/**
 * Kiln's events on the emulator: two real builds of the amazon-ebs example (one succeeds, one fails in a
 * provisioner) run the deployed bundles, whose PutEvents go to moto's default bus; a rule on source `kiln` with an
 * SQS target captures them (moto's EventBridge delivers to SQS), and every detail is checked against its schema.
 * `kiln channels promote` (the CLI code, signing as the admin) emits Channel Updated. `kiln builds list | show |
 * logs` read the two builds back. The IAM replay evaluates every call of the deployed roles, PutEvents included.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KILN_DETAIL_SCHEMAS, KILN_DETAIL_TYPES, type KilnDetailType } from '../../aws/events-contract.ts';
import { eventSinkFor } from '../../aws/events-emitter.ts';
import { registryTemplateName } from '../../aws/image-registry-records.ts';
import { runBuildsList, runBuildsLogs, runBuildsShow } from '../../cli/builds-read.ts';
import { bufferedIO } from '../../cli/io.ts';
import { runChannelsPromote } from '../../cli/registry.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { EXAMPLE_TEMPLATE_DIR, EXAMPLE_TEMPLATE_FILE } from '../../harness/example.ts';
import { formatDenials, type IamGuard, type RecordedCall } from '../../harness/iam-guard.ts';
import {
  followExecution,
  type KilnLocal,
  nextPumpedStart,
  startKilnLocal,
  uploadTemplateFolder,
} from '../../harness/kiln-local.ts';

const TEMPLATE = EXAMPLE_TEMPLATE_FILE;

interface Captured {
  readonly source: string;
  readonly 'detail-type': KilnDetailType;
  readonly detail: Record<string, unknown> & { buildId?: string };
}

interface Run {
  status?: string;
  executionArn: string;
  output: { buildId: string; builds: { name: string; registry?: { artifactId: string } }[] };
}

describe('Kiln events and `kiln builds` on the emulator', () => {
  let kiln: KilnLocal;
  let iam: IamGuard;
  let sqs: SQSClient;
  let queueUrl = '';
  const captured: Captured[] = [];
  let ok: Run;
  let failed: Run;
  let calls: RecordedCall[] = [];

  async function build(dir: string, prefix: string): Promise<Run> {
    const before = kiln.pump.starts.length;
    await uploadTemplateFolder(kiln.aws.endpoint, kiln.deployment.templateBucket, prefix, dir, TEMPLATE);
    const start = await nextPumpedStart(kiln.pump, before, 120_000);
    const executionArn = start.executionArn ?? '';
    const done = await followExecution(kiln.aws.endpoint, executionArn, undefined, { timeoutMs: 300_000 });
    const output = JSON.parse(done.result ?? '{}') as Run['output'];
    return { ...(done.status ? { status: done.status } : {}), executionArn, output };
  }

  /** Everything on the queue so far (moto delivers to SQS while PutEvents runs). */
  async function drain(): Promise<Captured[]> {
    for (;;) {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) return captured;
      for (const m of messages) captured.push(JSON.parse(m.Body ?? '{}') as Captured);
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
  }
  const of = (buildId: string, type: KilnDetailType) =>
    captured.filter((e) => e['detail-type'] === type && e.detail.buildId === buildId);

  const env = () => ({
    KILN_BUILDS_TABLE: kiln.deployment.buildsTable,
    KILN_STATE_MACHINE_ARN: kiln.deployment.stateMachineArn,
    KILN_ARTIFACTS_BUCKET: kiln.deployment.artifactsBucket,
  });
  const readClients = () => {
    const config = localClientConfig(kiln.aws.endpoint);
    return { dynamo: new DynamoDBClient(config), sfn: new SFNClient(config), s3: new S3Client(config) };
  };

  beforeAll(async () => {
    kiln = await startKilnLocal();
    iam = kiln.aws.router.iam as IamGuard;
    const config = localClientConfig(kiln.aws.endpoint);
    sqs = new SQSClient(config);
    const events = new EventBridgeClient(config);
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'kiln-events' }))).QueueUrl ?? '';
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    await events.send(new PutRuleCommand({ Name: 'capture-kiln', EventPattern: JSON.stringify({ source: ['kiln'] }) }));
    await events.send(new PutTargetsCommand({ Rule: 'capture-kiln', Targets: [{ Id: 'q', Arn: queueArn }] }));

    ok = await build(EXAMPLE_TEMPLATE_DIR, 'templates/events-ok');
    const dir = mkdtempSync(join(tmpdir(), 'kiln-events-failing-'));
    cpSync(EXAMPLE_TEMPLATE_DIR, dir, { recursive: true });
    const text = readFileSync(join(dir, TEMPLATE), 'utf8');
    const failing = 'provisioner "shell" {\n    inline = ["echo about to fail", "exit 3"]\n  }\n';
    writeFileSync(join(dir, TEMPLATE), text.replace(/\n}\s*$/, `\n  ${failing}}\n`));
    failed = await build(dir, 'templates/events-failing');
    await kiln.aws.router.shim.idle();
    calls = [...iam.calls];
    await drain();
  }, 720_000);

  afterAll(async () => {
    await kiln?.stop();
  });

  it('puts only schema-valid Kiln events on the default bus', () => {
    expect(captured.length).toBeGreaterThanOrEqual(5);
    for (const e of captured) {
      expect(e.source).toBe('kiln');
      const schema = KILN_DETAIL_SCHEMAS[e['detail-type']];
      expect(schema, e['detail-type']).toBeDefined();
      expect(() => schema.parse(e.detail), `${e['detail-type']} ${JSON.stringify(e.detail)}`).not.toThrow();
    }
  });

  it('emits Build Started and Build Succeeded for the build that succeeded, with its artifact and manifest', () => {
    expect(ok.status).toBe('SUCCEEDED');
    const id = ok.output.buildId;
    const [started] = of(id, KILN_DETAIL_TYPES.buildStarted);
    expect(started?.detail).toMatchObject({
      trigger: 's3-upload',
      registryTemplate: 'events-ok/amazon-ebs-basic',
      template: { bucket: kiln.deployment.templateBucket, key: `templates/events-ok/${TEMPLATE}` },
      builds: [{ index: 0, name: 'amazon-ebs.web', driver: 'ec2-ami' }],
    });
    const ended = of(id, KILN_DETAIL_TYPES.buildSucceeded);
    expect(ended).toHaveLength(1);
    expect(of(id, KILN_DETAIL_TYPES.buildFailed)).toEqual([]);
    const registryId = ok.output.builds[0]?.registry?.artifactId;
    expect(registryId).toMatch(/^ka-/);
    expect(ended[0]?.detail).toMatchObject({
      status: 'SUCCEEDED',
      manifest: { bucket: kiln.deployment.artifactsBucket, key: `manifests/${id}/manifest.json` },
      builds: [
        {
          name: 'amazon-ebs.web',
          status: 'SUCCEEDED',
          artifactId: expect.stringMatching(/^eu-west-1:ami-\w+,us-east-1:ami-\w+$/),
          registryArtifactId: registryId,
          channelParameter: '/kiln/events-ok-amazon-ebs-basic/amazon-ebs.web/latest',
        },
      ],
    });
  });

  it('emits Build Failed for the failed build, with the error and its cause', () => {
    expect(failed.status).toBe('FAILED');
    const id = failed.output.buildId ?? of('', KILN_DETAIL_TYPES.buildFailed)[0]?.detail.buildId;
    const failedEvents = captured.filter(
      (e) => e['detail-type'] === KILN_DETAIL_TYPES.buildFailed && (id ? e.detail.buildId === id : true),
    );
    expect(failedEvents).toHaveLength(1);
    const detail = failedEvents[0]?.detail as { buildId: string; status: string; summary: string; builds: unknown[] };
    expect(of(detail.buildId, KILN_DETAIL_TYPES.buildStarted)).toHaveLength(1);
    expect(detail.status).toBe('FAILED');
    expect(detail.summary).toBe('1 of 1 builds failed: amazon-ebs.web (Kiln.ProvisionerFailed)');
    expect(detail.builds).toEqual([
      expect.objectContaining({
        name: 'amazon-ebs.web',
        status: 'FAILED',
        error: 'Kiln.ProvisionerFailed',
        cause: expect.stringContaining('exit'),
      }),
    ]);
  });

  it('emits Channel Updated when Finalize moves latest and when `kiln channels promote` moves prod', async () => {
    const template = registryTemplateName(`templates/events-ok/${TEMPLATE}`);
    const artifact = ok.output.builds[0]?.registry?.artifactId ?? '';
    const latest = captured.filter(
      (e) => e['detail-type'] === KILN_DETAIL_TYPES.channelUpdated && e.detail.template === template,
    );
    expect(latest.map((e) => e.detail)).toEqual([
      expect.objectContaining({
        build: 'amazon-ebs.web',
        channel: 'latest',
        action: 'promote',
        artifactId: artifact,
        channelVersion: 1,
        by: 'pipeline',
        buildId: ok.output.buildId,
        parameters: expect.arrayContaining([
          expect.objectContaining({ region: 'eu-west-1', dataType: 'aws:ec2:image' }),
        ]),
      }),
    ]);

    const config = localClientConfig(kiln.aws.endpoint);
    const io = bufferedIO({ env: { KILN_REGISTRY_TABLE: kiln.deployment.outputs.RegistryTableName ?? '' } });
    const code = await runChannelsPromote(
      { template, build: 'amazon-ebs.web', channel: 'prod', artifact },
      { json: false },
      io,
      (region) => ({
        dynamo: new DynamoDBClient({ ...config, region }),
        ssm: (r) => new SSMClient({ ...config, region: r }),
        events: eventSinkFor(new EventBridgeClient({ ...config, region })),
      }),
    );
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    const before = captured.length;
    await drain();
    expect(captured.slice(before).map((e) => [e['detail-type'], e.detail])).toEqual([
      [
        KILN_DETAIL_TYPES.channelUpdated,
        expect.objectContaining({ template, channel: 'prod', artifactId: artifact, channelVersion: 1, by: 'cli' }),
      ],
    ]);
  });

  it('`kiln builds list` shows both builds newest first, and filters by status and template', async () => {
    const io = bufferedIO({ env: env() });
    expect(await runBuildsList({ json: true }, io, readClients)).toBe(0);
    const listed = JSON.parse(io.stdout()) as { builds: { buildId: string; status: string }[] };
    expect(listed.builds.map((b) => [b.buildId, b.status])).toEqual([
      [failed.output.buildId, 'FAILED'],
      [ok.output.buildId, 'SUCCEEDED'],
    ]);
    const text = bufferedIO({ env: env() });
    expect(await runBuildsList({ json: false, status: 'failed' }, text, readClients)).toBe(0);
    expect(text.stdout()).toContain(failed.output.buildId);
    expect(text.stdout()).not.toContain(ok.output.buildId);
    expect(text.stdout()).toContain('amazon-ebs.web (Kiln.ProvisionerFailed)');
    const byTemplate = bufferedIO({ env: env() });
    const location = `s3://${kiln.deployment.templateBucket}/templates/events-ok/${TEMPLATE}`;
    expect(await runBuildsList({ json: true, template: location }, byTemplate, readClients)).toBe(0);
    expect((JSON.parse(byTemplate.stdout()) as typeof listed).builds.map((b) => b.buildId)).toEqual([
      ok.output.buildId,
    ]);
  });

  it('`kiln builds show` gives the template, variables, artifact, manifest and per-stage timings', async () => {
    const io = bufferedIO({ env: env() });
    expect(await runBuildsShow(ok.output.buildId, { json: false }, io, readClients)).toBe(0);
    const out = io.stdout();
    expect(out).toContain(`Build ${ok.output.buildId}: SUCCEEDED`);
    expect(out).toMatch(/template {4}s3:\/\/.*\/templates\/events-ok\/amazon-ebs-basic\.pkr\.hcl \(version /);
    expect(out).toMatch(/content {5}sha256 [0-9a-f]{64}/);
    expect(out).toMatch(/app_version\s+1\.4\.2\s+default/);
    expect(out).toContain(`s3://${kiln.deployment.artifactsBucket}/manifests/${ok.output.buildId}/manifest.json`);
    for (const stage of ['PrepareBuild', 'LaunchBuilder', 'RunProvisioner', 'CreateImage', 'Finalize']) {
      expect(out).toMatch(new RegExp(`\\n${stage}\\s+Task\\s+\\d+\\s+[\\d.]+ (s|min)`));
    }
    const json = bufferedIO({ env: env() });
    expect(await runBuildsShow(ok.executionArn, { json: true }, json, readClients)).toBe(0);
    const shown = JSON.parse(json.stdout()) as { build: { buildId: string }; execution: { status: string } };
    expect(shown.build.buildId).toBe(ok.output.buildId);
    expect(shown.execution.status).toBe('SUCCEEDED');
  });

  it("`kiln builds logs` prints the provisioners' output and the failure", async () => {
    const io = bufferedIO({ env: env() });
    expect(await runBuildsLogs(failed.output.buildId, { json: false }, io, readClients)).toBe(0);
    const out = io.stdout();
    expect(out).toContain('provisioning Linux');
    expect(out).toContain('about to fail');
    expect(out).toContain('==> amazon-ebs.web failed: Kiln.ProvisionerFailed');
    expect(out).toMatch(/==> execution FAILED: Kiln.BuildFailed: 1 of 1 builds failed/);
    const missing = bufferedIO({ env: env() });
    expect(await runBuildsLogs('kb-doesnotexist', { json: false }, missing, readClients)).toBe(1);
    expect(missing.stderr()).toMatch(/no build kb-doesnotexist in table .*kiln builds list/);
  });

  it('made only calls AWS would allow, PutEvents included (IAM replay)', async () => {
    const report = await iam.replay(calls);
    expect(formatDenials(report.denied)).toBe('');
    const puts = calls.flatMap((c) => (c.requests ?? []).filter((r) => r.action === 'events:PutEvents'));
    // Started ×2, Succeeded, Failed, Channel Updated (latest): each entry authorized with its source and type.
    expect(puts.length).toBeGreaterThanOrEqual(5);
    expect(new Set(puts.map((r) => String(r.context['events:source'])))).toEqual(new Set(['kiln']));
    expect(Object.keys(report.unmodelled).sort()).toEqual([]);
  });
});
