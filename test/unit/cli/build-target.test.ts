/**
 * cli/build-target.ts: the one resolver behind `kiln builds show|logs|cancel` — a build id or an execution ARN to
 * the build record and its execution, reading only what the command needs.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildStartItem } from '../../../aws/build-records.ts';
import { resolveBuildTarget } from '../../../cli/build-target.ts';
import { bufferedIO } from '../../../cli/io.ts';

const ddb = mockClient(DynamoDBClient);
const MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:Build';
const ARN = 'arn:aws:states:eu-west-1:111122223333:execution:Build:sched-7';
const regions: string[] = [];
const dynamoFor = (region: string) => {
  regions.push(region);
  return new DynamoDBClient({ region });
};
const record = (buildId: string) =>
  buildStartItem({
    buildId,
    executionName: 'exec-7',
    template: { bucket: 'tpl', key: 'templates/web.pkr.hcl' },
    trigger: 'console',
    createdAt: '2026-12-03T00:00:00.000Z',
    builds: [{ index: 0, name: 'amazon-ebs.web', driver: 'ec2-ami' }],
    variables: [],
  });

beforeEach(() => {
  ddb.reset();
  regions.length = 0;
});

describe('resolveBuildTarget', () => {
  it('takes an execution ARN as given when the record is not needed: no read, the ARN’s region', async () => {
    const target = await resolveBuildTarget(
      ARN,
      { record: false, execution: true },
      {},
      bufferedIO(),
      'us-east-1',
      dynamoFor,
    );
    expect(target).toEqual({ buildId: expect.stringMatching(/^kb-/), region: 'eu-west-1', executionArn: ARN });
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  it('reads the record of an ARN’s build in the ARN’s region when the record is needed', async () => {
    ddb.on(GetItemCommand).resolves({ Item: record('kb-x') });
    const target = await resolveBuildTarget(
      ARN,
      { record: true, execution: false },
      { buildsTable: 'builds' },
      bufferedIO(),
      'us-east-1',
      dynamoFor,
    );
    expect([target.record.buildId, target.executionArn, regions]).toEqual(['kb-x', ARN, ['eu-west-1']]);
  });

  it('makes a build id’s execution ARN from the state machine and the record', async () => {
    ddb.on(GetItemCommand).resolves({ Item: record('kb-abc') });
    const io = bufferedIO({ env: { KILN_BUILDS_TABLE: 'builds', KILN_STATE_MACHINE_ARN: MACHINE } });
    const target = await resolveBuildTarget(
      'kb-abc',
      { record: false, execution: true },
      {},
      io,
      'eu-west-1',
      dynamoFor,
    );
    expect(target.executionArn).toBe('arn:aws:states:eu-west-1:111122223333:execution:Build:exec-7');
    // show/logs without a state machine: the record, no execution.
    const bare = bufferedIO({ env: { KILN_BUILDS_TABLE: 'builds' } });
    const shown = await resolveBuildTarget(
      'kb-abc',
      { record: true, execution: false },
      {},
      bare,
      'eu-west-1',
      dynamoFor,
    );
    expect([shown.record.buildId, shown.executionArn]).toEqual(['kb-abc', undefined]);
  });

  it('says what to pass, before reading anything, when an argument or setting is wrong', async () => {
    const io = bufferedIO({ env: {} });
    const needs = { record: false, execution: true } as const;
    await expect(resolveBuildTarget('build-1', needs, {}, io, 'eu-west-1', dynamoFor)).rejects.toThrow(
      /"build-1" is neither a build id \(kb-…/,
    );
    await expect(resolveBuildTarget('kb-abc', needs, {}, io, 'eu-west-1', dynamoFor)).rejects.toThrow(
      /no builds table to find build kb-abc's execution: pass --builds-table <name> or set KILN_BUILDS_TABLE/,
    );
    await expect(
      resolveBuildTarget('kb-abc', needs, { buildsTable: 'builds' }, io, 'eu-west-1', dynamoFor),
    ).rejects.toThrow(/pass --state-machine <arn> or set KILN_STATE_MACHINE_ARN/);
    await expect(
      resolveBuildTarget('kb-abc', needs, { buildsTable: 'builds', stateMachine: 'Build' }, io, 'eu-west-1', dynamoFor),
    ).rejects.toThrow(/"Build" is not a state machine ARN/);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  it('names the table and region when the build has no record', async () => {
    ddb.on(GetItemCommand).resolves({});
    await expect(
      resolveBuildTarget(
        'kb-gone',
        { record: true, execution: false },
        { buildsTable: 'builds' },
        bufferedIO(),
        'eu-west-1',
        dynamoFor,
      ),
    ).rejects.toThrow(/no build kb-gone in table builds \(eu-west-1\).*`kiln builds list`/);
  });
});
