/**
 * IAM conditions, which moto ignores, checked on a real build: the router records every AWS call the pipeline's
 * roles make (functions, the builder instance, the state machine) with what AWS would authorize for it (resource
 * ARNs, request tags, the resource's tags read from moto at call time, ec2:CreateAction, iam:PassedToService),
 * and the replay evaluates each against that role's deployed policies with iam-simulate. The build exercises
 * force_deregister (DeregisterImage, DeleteSnapshot of an earlier build's AMI), sharing (ModifyImageAttribute,
 * ModifySnapshotAttribute) and a copy (CopyImage) besides launch, image and terminate.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateImageCommand, DescribeImagesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../harness/clients.ts';
import { EXAMPLE_TEMPLATE_DIR, EXAMPLE_TEMPLATE_FILE } from '../../harness/example.ts';
import type { AuthorizationRequest } from '../../harness/iam-evaluate.ts';
import { formatDenials, type IamGuard, type RecordedCall } from '../../harness/iam-guard.ts';
import {
  followExecution,
  type KilnLocal,
  nextPumpedStart,
  startKilnLocal,
  uploadTemplateFolder,
} from '../../harness/kiln-local.ts';

const EXAMPLE_DIR = EXAMPLE_TEMPLATE_DIR;
const TEMPLATE = EXAMPLE_TEMPLATE_FILE;
const AMI_NAME = 'kiln-replay-web';
const EARLIER_BUILD = 'b-earlier';

/** EC2 mutations conditioned on kiln:build-id, PassRole and S3 writes: each must have been made and checked. */
const MUST_BE_CHECKED = [
  'ec2:RunInstances',
  'ec2:CreateTags',
  'ec2:CreateImage',
  'ec2:CopyImage',
  'ec2:StopInstances',
  'ec2:TerminateInstances',
  'ec2:DeregisterImage',
  'ec2:DeleteSnapshot',
  'ec2:ModifyImageAttribute',
  'ec2:ModifySnapshotAttribute',
  'iam:PassRole',
  's3:PutObject',
  's3:DeleteObject',
  'ssm:SendCommand',
  'ssm:GetCommandInvocation',
  'lambda:InvokeFunction',
  'dynamodb:PutItem',
];

describe('IAM replay: every call of a build is allowed by its role, conditions included', () => {
  let kiln: KilnLocal;
  let iam: IamGuard;
  let calls: RecordedCall[] = [];
  let status: string | undefined;

  beforeAll(async () => {
    kiln = await startKilnLocal();
    iam = kiln.aws.router.iam as IamGuard;
    // An earlier build's AMI under the name this build uses: force_deregister removes it and its snapshot.
    const ec2 = new EC2Client(localClientConfig(kiln.aws.endpoint));
    const imageId = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId;
    const run = await ec2.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 }));
    const buildTag = [{ Key: 'kiln:build-id', Value: EARLIER_BUILD }];
    await ec2.send(
      new CreateImageCommand({
        InstanceId: run.Instances?.[0]?.InstanceId,
        Name: AMI_NAME,
        TagSpecifications: [
          { ResourceType: 'image', Tags: buildTag },
          { ResourceType: 'snapshot', Tags: buildTag },
        ],
      }),
    );

    const dir = mkdtempSync(join(tmpdir(), 'kiln-replay-'));
    cpSync(EXAMPLE_DIR, dir, { recursive: true });
    const text = readFileSync(join(dir, TEMPLATE), 'utf8').replace(
      /ami_name\s*=.*\n/,
      `ami_name = "${AMI_NAME}"\n  force_deregister = true\n  force_delete_snapshot = true\n` +
        '  ami_users = ["111122223333"]\n  snapshot_users = ["111122223333"]\n',
    );
    writeFileSync(join(dir, TEMPLATE), text);
    const before = kiln.pump.starts.length;
    await uploadTemplateFolder(kiln.aws.endpoint, kiln.deployment.templateBucket, 'templates/replay', dir, TEMPLATE);
    // Generous: on a loaded two-core machine the S3 event can take longer than the helper's default 30 s.
    const start = await nextPumpedStart(kiln.pump, before, 120_000);
    const done = await followExecution(kiln.aws.endpoint, start.executionArn ?? '', undefined, { timeoutMs: 300_000 });
    status = done.status;
    // Every async task of the build has ended with the execution; the shim's scripts too.
    await kiln.aws.router.shim.idle();
    calls = [...iam.calls];
  }, 420_000);

  afterAll(async () => {
    await kiln?.stop();
  });

  it('builds, and AWS would have allowed every call the build made', async () => {
    const report = await iam.replay(calls);
    // Denials first: when a missing grant also failed the build, the list says which call and why.
    expect(formatDenials(report.denied)).toBe('');
    expect(status).toBe('SUCCEEDED');
    const checked = new Set(calls.flatMap((c) => (c.requests ?? []).map((r) => r.action)));
    expect(MUST_BE_CHECKED.filter((action) => !checked.has(action))).toEqual([]);
    // Calls the harness does not model cannot be checked: keep that list explicit.
    expect(Object.keys(report.unmodelled).sort()).toEqual([]);
  });

  /** A recorded request of the build, changed the way a broken handler or policy would change it. */
  const doctored = (
    action: string,
    pick: (r: AuthorizationRequest) => boolean,
    change: Partial<AuthorizationRequest>,
  ) => {
    const call = calls.find((c) => c.requests?.some((r) => r.action === action && pick(r)));
    const request = call?.requests?.find((r) => r.action === action && pick(r));
    if (!call || !request) throw new Error(`the build made no ${action} call to doctor`);
    return { ...call, requests: [{ ...request, ...change }] } as RecordedCall;
  };
  const without = (context: Readonly<Record<string, string | string[]>>, prefix: string) =>
    Object.fromEntries(Object.entries(context).filter(([k]) => !k.startsWith(prefix)));

  it.each([
    [
      'RunInstances whose instance carries no build tag',
      () => doctored('ec2:RunInstances', (r) => r.resource.includes(':instance/'), {}),
      (r: AuthorizationRequest) => ({ context: without(r.context, 'aws:RequestTag/kiln:build-id') }),
    ],
    [
      'RunInstances in a subnet of another VPC',
      () => doctored('ec2:RunInstances', (r) => r.resource.includes(':subnet/'), {}),
      () => ({ context: { 'ec2:Vpc': 'arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0other' } }),
    ],
    [
      'CreateTags on an instance outside a create action',
      () => doctored('ec2:CreateTags', (r) => r.resource.includes(':instance/'), {}),
      (r: AuthorizationRequest) => ({ context: without(r.context, 'ec2:CreateAction') }),
    ],
    [
      'TerminateInstances of an instance without the build tag',
      () => doctored('ec2:TerminateInstances', () => true, {}),
      () => ({ context: {} }),
    ],
    [
      'DeregisterImage of an AMI without the build tag',
      () => doctored('ec2:DeregisterImage', () => true, {}),
      () => ({ context: {} }),
    ],
    [
      'DeleteSnapshot of a snapshot without the build tag',
      () => doctored('ec2:DeleteSnapshot', () => true, {}),
      () => ({ context: {} }),
    ],
    [
      'CreateImage whose image carries no build tag',
      () => doctored('ec2:CreateImage', (r) => r.resource.includes(':image/'), {}),
      (r: AuthorizationRequest) => ({ context: without(r.context, 'aws:RequestTag/kiln:build-id') }),
    ],
    [
      'PassRole of the builder role to another service',
      () => doctored('iam:PassRole', () => true, {}),
      () => ({ context: { 'iam:PassedToService': 'lambda.amazonaws.com' } }),
    ],
    [
      'PassRole of another role',
      () => doctored('iam:PassRole', () => true, {}),
      () => ({
        resource: 'arn:aws:iam::123456789012:role/admin',
        context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
      }),
    ],
    [
      'PutObject outside the build prefixes',
      () => doctored('s3:PutObject', () => true, {}),
      (r: AuthorizationRequest) => ({
        resource: r.resource.replace(/:::([^/]+)\/.*$/, ':::$1/templates/evil.pkr.hcl'),
      }),
    ],
    [
      'DeleteObject of a manifest (written once, never deleted)',
      () => doctored('s3:DeleteObject', () => true, {}),
      (r: AuthorizationRequest) => ({ resource: r.resource.replace(/:::([^/]+)\/.*$/, ':::$1/manifests/other.json') }),
    ],
  ])('the replay denies %s', async (_label, pick, change) => {
    const call = pick();
    const request = call.requests?.[0] as AuthorizationRequest;
    const allowed = await iam.replay([call]);
    expect(allowed.denied).toEqual([]);
    const report = await iam.replay([{ ...call, requests: [{ ...request, ...change(request) }] }]);
    expect(report.denied).toHaveLength(1);
  });
});
