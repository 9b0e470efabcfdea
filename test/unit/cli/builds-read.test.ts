import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildOutcomeUpdate, buildStartItem, prepareFailedItem } from '../../../aws/build-records.ts';
import { runBuildsList, runBuildsLogs, runBuildsShow } from '../../../cli/builds-read.ts';
import { bufferedIO } from '../../../cli/io.ts';
import { commandHandlers, runCli } from '../../../cli/program.ts';
import { body } from '../functions/fakes.ts';

const ddb = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const connect = () => ({
  dynamo: new DynamoDBClient({ region: 'us-east-1' }),
  sfn: new SFNClient({ region: 'us-east-1' }),
  s3: new S3Client({ region: 'us-east-1' }),
});
const MACHINE = 'arn:aws:states:us-east-1:111122223333:stateMachine:Build';
const env = { KILN_BUILDS_TABLE: 'builds', KILN_STATE_MACHINE_ARN: MACHINE, KILN_ARTIFACTS_BUCKET: 'art' };
const now = () => new Date('2026-12-02T12:00:00.000Z');

/** A stored record: started, and (when given) finished with outcomes, as PrepareBuild and Finalize write it. */
function item(id: string, createdAt: string, status?: 'SUCCEEDED' | 'FAILED') {
  const start = buildStartItem({
    buildId: id,
    executionName: `exec-${id}`,
    template: { bucket: 'tpl', key: 'templates/web.pkr.hcl', versionId: 'v3' },
    trigger: 's3-upload',
    createdAt,
    builds: [{ index: 0, name: 'amazon-ebs.web', driver: 'ec2-ami' }],
    variables: [
      { name: 'region', value: 'us-east-1', source: 'default' },
      { name: 'token', value: '<sensitive>', source: 'var' },
    ],
  });
  if (!status) return start;
  const u = buildOutcomeUpdate(id, {
    status,
    finishedAt: '2026-12-02T11:05:00.000Z',
    manifestKey: `manifests/${id}/manifest.json`,
    outcomes: [
      status === 'SUCCEEDED'
        ? { name: 'amazon-ebs.web', status, artifactId: 'us-east-1:ami-1' }
        : { name: 'amazon-ebs.web', status, error: 'Kiln.ProvisionerFailed' },
    ],
  }).ExpressionAttributeValues;
  return { ...start, status: u[':s'], finishedAt: u[':f'], manifestKey: u[':m'], outcomes: u[':o'] };
}

beforeEach(() => {
  ddb.reset();
  sfn.reset();
  s3.reset();
});

describe('kiln builds list', () => {
  it('lists newest first with duration and each failed build’s error, filtered by status', async () => {
    ddb.on(ScanCommand).resolves({
      Items: [
        item('kb-old', '2026-12-02T10:00:00.000Z', 'SUCCEEDED'),
        item('kb-new', '2026-12-02T11:00:00.000Z', 'FAILED'),
        item('kb-run', '2026-12-02T11:30:00.000Z'),
        { buildId: { S: 'not-a-record' } },
      ],
    });
    const io = bufferedIO({ env, now });
    expect(await runBuildsList({ json: false }, io, connect)).toBe(0);
    const lines = io.stdout().trim().split('\n');
    expect(lines[0]).toMatch(/^BUILD\s+STATUS\s+STARTED\s+TOOK\s+TEMPLATE\s+TRIGGER\s+BUILDS$/);
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual([
      ['kb-run', 'RUNNING'],
      ['kb-new', 'FAILED'],
      ['kb-old', 'SUCCEEDED'],
    ]);
    expect(lines[2]).toContain('30 min 00 s so far');
    expect(lines[3]).toContain('amazon-ebs.web (Kiln.ProvisionerFailed)');
    const failed = bufferedIO({ env, now });
    expect(await runBuildsList({ json: true, status: 'failed,partial', template: 'web' }, failed, connect)).toBe(0);
    expect((JSON.parse(failed.stdout()) as { builds: { buildId: string }[] }).builds.map((b) => b.buildId)).toEqual([
      'kb-new',
    ]);
  });

  it('says what to pass when the table or a flag is wrong', async () => {
    const io = bufferedIO({ env: {}, now });
    expect(await runBuildsList({ json: false }, io, connect)).toBe(1);
    expect(io.stderr()).toMatch(/no builds table: pass --builds-table <name> or set KILN_BUILDS_TABLE/);
    const bad = bufferedIO({ env, now });
    expect(await runBuildsList({ json: false, status: 'DONE' }, bad, connect)).toBe(1);
    expect(bad.stderr()).toMatch(/--status DONE: use one or more of RUNNING, SUCCEEDED, FAILED, PARTIAL, SKIPPED/);
    const io2 = bufferedIO({ env, now });
    expect(
      await runCli(
        ['builds', 'list', '--limit', '0'],
        io2,
        commandHandlers(io2, undefined, undefined, undefined, undefined, connect),
      ),
    ).toBe(1);
    expect(io2.stderr()).toMatch(/--limit 0: give a whole number from 1 to 1000/);
  });
});

describe('kiln builds show', () => {
  it('shows the template, variables, outcome, manifest and per-stage timings from the history', async () => {
    ddb.on(GetItemCommand).resolves({ Item: item('kb-old', '2026-12-02T10:00:00.000Z', 'SUCCEEDED') });
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ status: 'SUCCEEDED', executionArn: 'x', stateMachineArn: MACHINE, startDate: new Date() });
    const t = (s: number) => new Date(Date.parse('2026-12-02T10:00:00.000Z') + s * 1000);
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 1, type: 'TaskStateEntered', timestamp: t(0), stateEnteredEventDetails: { name: 'PrepareBuild' } },
        { id: 2, type: 'TaskStateExited', timestamp: t(3), stateExitedEventDetails: { name: 'PrepareBuild' } },
        { id: 3, type: 'TaskStateEntered', timestamp: t(4), stateEnteredEventDetails: { name: 'Finalize' } },
        { id: 4, type: 'TaskStateExited', timestamp: t(5), stateExitedEventDetails: { name: 'Finalize' } },
      ],
    });
    const io = bufferedIO({ env, now });
    expect(await runBuildsShow('kb-old', { json: false }, io, connect)).toBe(0);
    const out = io.stdout();
    expect(out).toContain('Build kb-old: SUCCEEDED');
    expect(out).toContain('template    s3://tpl/templates/web.pkr.hcl (version v3)  [registry: web]');
    expect(out).toMatch(/token\s+<sensitive>\s+var/);
    expect(out).toMatch(/amazon-ebs\.web\s+ec2-ami\s+SUCCEEDED\s+us-east-1:ami-1/);
    expect(out).toContain('manifest    s3://art/manifests/kb-old/manifest.json');
    expect(out).toMatch(/PrepareBuild\s+Task\s+1\s+3\.0 s/);
    expect(out).toMatch(/Finalize\s+Task\s+1\s+1\.0 s/);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input.executionArn).toBe(
      'arn:aws:states:us-east-1:111122223333:execution:Build:exec-kb-old',
    );
  });

  it('shows a build that never started: PrepareBuild’s error and cause, in show and in the list', async () => {
    const failed = prepareFailedItem(
      {
        buildId: 'kb-broken',
        executionName: 'exec-kb-broken',
        template: { bucket: 'tpl', key: 'templates/web.pkr.hcl' },
        trigger: 'schedule',
        schedule: 'web-nightly',
        createdAt: '2026-12-02T11:00:00.000Z',
        builds: [],
      },
      {
        error: 'Kiln.TemplateInvalid',
        cause: 'Error: Unclosed configuration block\n\n  on web.pkr.hcl line 1, column 25:',
      },
      '2026-12-02T11:00:02.000Z',
    );
    ddb.on(GetItemCommand).resolves({ Item: failed });
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      executionArn: 'x',
      stateMachineArn: MACHINE,
      startDate: new Date(),
      error: 'Kiln.TemplateInvalid',
    });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const io = bufferedIO({ env, now });
    expect(await runBuildsShow('kb-broken', { json: false }, io, connect)).toBe(0);
    expect(io.stdout()).toContain('Build kb-broken: FAILED');
    expect(io.stdout()).toContain(
      'Not built: PrepareBuild failed: Kiln.TemplateInvalid\nError: Unclosed configuration block\n\n  on web.pkr.hcl line 1, column 25:',
    );
    ddb.on(ScanCommand).resolves({ Items: [failed] });
    const listed = bufferedIO({ env, now });
    expect(await runBuildsList({ json: false }, listed, connect)).toBe(0);
    expect(listed.stdout()).toMatch(/kb-broken .*FAILED .*not built \(Kiln\.TemplateInvalid\)/);
  });

  it('says where to find a build that is not recorded, and what an argument must look like', async () => {
    ddb.on(GetItemCommand).resolves({});
    const io = bufferedIO({ env, now });
    expect(await runBuildsShow('kb-nope', { json: false }, io, connect)).toBe(1);
    expect(io.stderr()).toMatch(/no build kb-nope in table builds .*`kiln builds list`/);
    const bad = bufferedIO({ env, now });
    expect(await runBuildsShow('web', { json: false }, bad, connect)).toBe(1);
    expect(bad.stderr()).toMatch(/neither a build id \(kb-…/);
  });
});

describe('kiln builds logs', () => {
  it('prints each step’s output in build, step and try order, then the failure', async () => {
    ddb.on(GetItemCommand).resolves({ Item: item('kb-new', '2026-12-02T11:00:00.000Z', 'FAILED') });
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      executionArn: 'x',
      stateMachineArn: MACHINE,
      startDate: new Date(),
      error: 'Kiln.BuildFailed',
      cause: '1 of 1 builds failed: amazon-ebs.web (Kiln.ProvisionerFailed)',
    });
    const key = (step: string, stream: string) =>
      `builds/kb-new/logs/0/${step}/cmd/i-1/awsrunShellScript/0.awsrunShellScript/${stream}`;
    s3.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: key('10-0', 'stdout') },
        { Key: key('2-1', 'stderr') },
        { Key: key('2-0', 'stdout') },
        { Key: key('2-1', 'stdout') },
      ],
    });
    for (const [k, text] of [
      [key('10-0', 'stdout'), 'ten\n'],
      [key('2-1', 'stderr'), 'boom\n'],
      [key('2-0', 'stdout'), 'first try\n'],
      [key('2-1', 'stdout'), 'second try\n'],
    ] as const) {
      s3.on(GetObjectCommand, { Key: k }).resolves({ Body: body(text) });
    }
    const io = bufferedIO({ env, now });
    expect(await runBuildsLogs('kb-new', { json: false }, io, connect)).toBe(0);
    expect(io.stdout()).toBe(
      [
        '==> amazon-ebs.web · step 2 · stdout',
        'first try',
        '==> amazon-ebs.web · step 2 (try 2) · stderr',
        'boom',
        '==> amazon-ebs.web · step 2 (try 2) · stdout',
        'second try',
        '==> amazon-ebs.web · step 10 · stdout',
        'ten',
        '==> amazon-ebs.web failed: Kiln.ProvisionerFailed',
        '==> execution FAILED: Kiln.BuildFailed: 1 of 1 builds failed: amazon-ebs.web (Kiln.ProvisionerFailed)',
        '',
      ].join('\n'),
    );
  });

  it('needs the artifacts bucket, and says so', async () => {
    ddb.on(GetItemCommand).resolves({ Item: item('kb-new', '2026-12-02T11:00:00.000Z', 'FAILED') });
    const io = bufferedIO({ env: { KILN_BUILDS_TABLE: 'builds' }, now });
    expect(await runBuildsLogs('kb-new', { json: false }, io, connect)).toBe(1);
    expect(io.stderr()).toMatch(/pass --artifacts-bucket <name> or set KILN_ARTIFACTS_BUCKET/);
  });
});
