/**
 * Starting builds on the local stack (issue 12, "Console and API start" and "S3 upload"): `kiln submit` in process
 * against the deployed emulator with -var and -var-file, followed with --watch to the AMI; a resubmit of the same
 * content starting nothing new; an upload whose inputs come from its sidecar, with a duplicated event that must not
 * build twice; and a console-style start with a wrong input refused before any build stage.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBuildRecord } from '../../aws/build-history.ts';
import { sidecarKeyFor } from '../../aws/build-input.ts';
import { bufferedIO } from '../../cli/io.ts';
import { runSubmit, type SubmitConnect } from '../../cli/submit.ts';
import { buildIdFor } from '../../functions/lib/tokens.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { EXAMPLE_TEMPLATE_DIR, EXAMPLE_TEMPLATE_FILE } from '../../harness/example.ts';
import { formatDenials, type IamGuard } from '../../harness/iam-guard.ts';
import { followExecution, type KilnLocal, startKilnLocal, uploadTemplateFolder } from '../../harness/kiln-local.ts';

const BUILD_TIMEOUT_MS = 300_000;

interface Output {
  buildId: string;
  status?: string;
  skipped?: string | null;
  builds: { name: string; status: string; artifactId?: string }[];
}

describe('starting builds: kiln submit, sidecar uploads, checked inputs (local stack)', () => {
  let kiln: KilnLocal;
  let work: string;
  const sfn = () => new SFNClient(localClientConfig(kiln.aws.endpoint));
  const connect: SubmitConnect = (region) => ({
    s3: new S3Client(localClientConfig(kiln.aws.endpoint, region)),
    sfn: new SFNClient(localClientConfig(kiln.aws.endpoint, region)),
    scheduler: new SchedulerClient(localClientConfig(kiln.aws.endpoint, region)),
  });
  const amiNames = async (buildId: string): Promise<string[]> =>
    (
      (
        await new EC2Client(localClientConfig(kiln.aws.endpoint)).send(
          new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'tag:kiln:build-id', Values: [buildId] }] }),
        )
      ).Images ?? []
    ).map((i) => i.Name ?? '');
  const executions = async () =>
    (await sfn().send(new ListExecutionsCommand({ stateMachineArn: kiln.deployment.stateMachineArn }))).executions ??
    [];

  beforeAll(async () => {
    kiln = await startKilnLocal();
    work = mkdtempSync(join(tmpdir(), 'kiln-submit-it-'));
  }, 900_000);
  afterAll(async () => {
    await kiln?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('kiln submit -var -var-file --watch builds to SUCCEEDED with both inputs, and a resubmit starts nothing new', {
    timeout: BUILD_TIMEOUT_MS,
  }, async () => {
    const varFile = join(work, 'no-copies.pkrvars.hcl');
    writeFileSync(varFile, 'copy_regions = []\n');
    const io = bufferedIO({ cwd: work, env: {}, now: () => new Date() });
    const options = {
      path: join(EXAMPLE_TEMPLATE_DIR, EXAMPLE_TEMPLATE_FILE),
      vars: [['app_version', '2.0.1']] as [string, string][],
      varFiles: [varFile],
      only: [],
      except: [],
      watch: true,
      json: false,
      stateMachine: kiln.deployment.stateMachineArn,
      bucket: kiln.deployment.templateBucket,
      pollMs: 1000,
      timeoutSeconds: 280,
    };
    const code = await runSubmit(options, io, connect);
    const out = io.stdout();
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    const buildId = /Submitted build (kb-[0-9a-f]+)/.exec(out)?.[1] ?? '';
    expect(out).toMatch(/execution arn:aws:states:us-east-1:\d{12}:execution:[^:]+:kiln-submit-[0-9a-f]{48}/);
    expect(out).toMatch(/template {2}s3:\/\/[^/]+\/submissions\/[0-9a-f]{32}\/amazon-ebs-basic\.tar\.gz/);
    // A line per stage change of the build, with elapsed time, ending with the AMI.
    expect(out).toMatch(/\[\s*\d+s\] \(execution\)\s+PrepareBuild/);
    expect(out).toMatch(/\[\s*\d+s\] amazon-ebs\.web\s+RunProvisioner/);
    expect(out).toMatch(/Execution SUCCEEDED/);
    expect(out).toMatch(/amazon-ebs\.web: SUCCEEDED\n\s+AMI ami-[0-9a-f]+ in us-east-1\n/);
    // -var set the version (AMI name); -var-file emptied copy_regions (no AMI in the second region).
    expect(out).not.toMatch(/in eu-west-1/);
    const names = await amiNames(buildId);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^kiln-example-web-2\.0\.1-\d{14}$/);
    // The build record says who asked (the input's trigger metadata).
    const record = await getBuildRecord(
      new DynamoDBClient(localClientConfig(kiln.aws.endpoint)),
      kiln.deployment.buildsTable,
      buildId,
    );
    expect(record).toMatchObject({ trigger: 'request', requestedVia: { source: 'kiln-submit' }, status: 'SUCCEEDED' });
    // Nothing went through the upload rule: the bundle is outside templates/.
    expect(kiln.pump.starts).toHaveLength(0);

    // The same content again: the same execution, no second build.
    const before = (await executions()).length;
    const again = bufferedIO({ cwd: work, env: {} });
    expect(await runSubmit({ ...options, watch: false, json: true }, again, connect)).toBe(0);
    const second = JSON.parse(again.stdout()) as { buildId: string; alreadySubmitted: boolean };
    expect(second).toMatchObject({ buildId, alreadySubmitted: true });
    expect((await executions()).length).toBe(before);
  });

  it('an upload builds with its sidecar inputs; the sidecar upload and a duplicated event build nothing', {
    timeout: BUILD_TIMEOUT_MS,
  }, async () => {
    const dir = join(work, 'sidecar-web');
    cpSync(EXAMPLE_TEMPLATE_DIR, dir, { recursive: true });
    writeFileSync(
      join(dir, `${EXAMPLE_TEMPLATE_FILE}.kiln.json`),
      JSON.stringify({ vars: { app_version: '3.1.0', copy_regions: '[]' }, only: ['amazon-ebs.web'] }),
    );
    const prefix = 'templates/sidecar-web';
    const first = kiln.pump.starts.length;
    const key = await uploadTemplateFolder(
      kiln.aws.endpoint,
      kiln.deployment.templateBucket,
      prefix,
      dir,
      EXAMPLE_TEMPLATE_FILE,
    );
    expect(key).toBe(`${prefix}/${EXAMPLE_TEMPLATE_FILE}`);
    // Two starts: the sidecar's (it matches the rule's `.json`) and the template's.
    const deadline = Date.now() + 30_000;
    while (kiln.pump.starts.length < first + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const starts = kiln.pump.starts.slice(first);
    const sidecarStart = starts.find((s) => s.input.includes(sidecarKeyFor(key)));
    const templateStart = starts.find((s) => s.input.includes(`"${key}"`));
    expect(sidecarStart?.executionArn).toBeDefined();
    expect(templateStart?.executionArn).toBeDefined();

    // The same event delivered twice (EventBridge is at-least-once): a second execution with the same input.
    const duplicate = await sfn().send(
      new StartExecutionCommand({
        stateMachineArn: kiln.deployment.stateMachineArn,
        name: 'duplicated-delivery',
        input: templateStart?.input ?? '',
      }),
    );

    const sidecarRun = await followExecution(kiln.aws.endpoint, sidecarStart?.executionArn ?? '');
    expect(sidecarRun.status).toBe('SUCCEEDED');
    expect((JSON.parse(sidecarRun.result ?? '{}') as Output).skipped).toMatch(/is a Kiln sidecar/);

    const runs = await Promise.all(
      [templateStart?.executionArn ?? '', duplicate.executionArn ?? ''].map((arn) =>
        followExecution(kiln.aws.endpoint, arn, undefined, { timeoutMs: 280_000 }),
      ),
    );
    const outputs = runs.map((r) => JSON.parse(r.result ?? '{}') as Output);
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const built = outputs.filter((o) => !o.skipped);
    const skipped = outputs.filter((o) => o.skipped);
    expect(built).toHaveLength(1);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]?.skipped).toMatch(
      /^duplicate event: .* is built by kb-[0-9a-f]+ \(execution .+\); one build per uploaded version$/,
    );
    expect(skipped[0]?.skipped).toContain(built[0]?.buildId ?? 'none');
    // The sidecar's variables reached the build: version 3.1.0, no copy.
    expect(built[0]?.builds).toEqual([expect.objectContaining({ name: 'amazon-ebs.web', status: 'SUCCEEDED' })]);
    expect(built[0]?.builds[0]?.artifactId).toMatch(/^us-east-1:ami-[0-9a-f]+$/);
    const names = await amiNames(built[0]?.buildId ?? '');
    expect(names).toEqual([expect.stringMatching(/^kiln-example-web-3\.1\.0-\d{14}$/)]);
    expect(await amiNames(skipped[0]?.buildId ?? '')).toEqual([]);
  });

  it('a console start with a wrong input fails in PrepareBuild with Kiln.InputInvalid naming each field', {
    timeout: 120_000,
  }, async () => {
    const started = await sfn().send(
      new StartExecutionCommand({
        stateMachineArn: kiln.deployment.stateMachineArn,
        name: 'console-typo',
        input: JSON.stringify({
          template: { bucket: kiln.deployment.templateBucket, key: '' },
          variables: { app_version: '1' },
          vars: { region: { nested: true } },
        }),
      }),
    );
    const run = await followExecution(kiln.aws.endpoint, started.executionArn ?? '', undefined, { timeoutMs: 100_000 });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('Kiln.InputInvalid');
    // The cause is the Lambda error as JSON; its message is what a person reads in the console.
    const cause = (() => {
      try {
        return (JSON.parse(run.cause ?? '') as { errorMessage?: string }).errorMessage ?? '';
      } catch {
        return run.cause ?? '';
      }
    })();
    expect(cause).toContain('The build input is not valid');
    expect(cause).toContain('template.key: must not be empty');
    expect(cause).toContain('vars.region: expected one of string, number, boolean, got an object');
    expect(cause).toContain('unknown field "variables" (variables go in "vars"): remove it');
    expect(cause).toContain('schemas/build-input.schema.json');
    // Nothing past PrepareBuild ran but the failure's record, which a start this wrong cannot have (no template).
    const history = await sfn().send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
    const entered = (history.events ?? []).flatMap((e) => e.stateEnteredEventDetails?.name ?? []);
    expect(entered).toEqual(['PrepareBuild', 'RecordPrepareFailure', 'PrepareFailed']);
    const recorded = (history.events ?? []).find(
      (e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'RecordPrepareFailure',
    );
    expect(JSON.parse(recorded?.stateExitedEventDetails?.output ?? '{}').prepareFailureRecord).toMatchObject({
      recorded: false,
      reason: expect.stringContaining('The build input is not valid'),
    });
  });

  it('a start whose template is invalid fails with Kiln.TemplateInvalid and leaves a FAILED record with the diagnostic', {
    timeout: 120_000,
  }, async () => {
    const key = 'submissions/broken/broken.pkr.hcl';
    await new S3Client(localClientConfig(kiln.aws.endpoint)).send(
      new PutObjectCommand({ Bucket: kiln.deployment.templateBucket, Key: key, Body: 'source "amazon-ebs" "x" {' }),
    );
    const started = await sfn().send(
      new StartExecutionCommand({
        stateMachineArn: kiln.deployment.stateMachineArn,
        name: 'console-broken',
        input: JSON.stringify({ template: { bucket: kiln.deployment.templateBucket, key } }),
      }),
    );
    const run = await followExecution(kiln.aws.endpoint, started.executionArn ?? '', undefined, { timeoutMs: 100_000 });
    expect([run.status, run.error]).toEqual(['FAILED', 'Kiln.TemplateInvalid']);
    expect(run.cause).toContain('Unclosed configuration block');
    const history = await sfn().send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
    const entered = (history.events ?? []).flatMap((e) => e.stateEnteredEventDetails?.name ?? []);
    expect(entered).toEqual(['PrepareBuild', 'RecordPrepareFailure', 'PrepareFailed']);
    const record = await getBuildRecord(
      new DynamoDBClient(localClientConfig(kiln.aws.endpoint)),
      kiln.deployment.buildsTable,
      buildIdFor('console-broken'),
    );
    expect(record).toMatchObject({ status: 'FAILED', trigger: 'request', builds: [], template: { key } });
    expect(record?.prepareFailure?.error).toBe('Kiln.TemplateInvalid');
    expect(record?.prepareFailure?.cause).toMatch(/Unclosed configuration block\s+on broken\.pkr\.hcl line 1/);
  });

  it('made only calls AWS would allow: the claim, the sidecar version reads, the submissions/ reads (IAM replay)', async () => {
    await kiln.aws.router.shim.idle();
    const report = await (kiln.aws.router.iam as IamGuard).replay();
    expect(formatDenials(report.denied)).toBe('');
    expect(report.checked).toBeGreaterThan(100);
    expect(Object.keys(report.unmodelled)).toEqual([]);
  });
});
