/** functions/common/finalize/prepare-failure.ts: the record of a start whose PrepareBuild failed for good. */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { FinalizeDeps } from '../../../functions/common/finalize/finalize.ts';
import { lambdaErrorMessage, recordPrepareFailure } from '../../../functions/common/finalize/prepare-failure.ts';

const ddb = mockClient(DynamoDBClient);
const deps = {
  dynamo: new DynamoDBClient({ region: 'us-east-1' }),
  buildsTable: 'builds',
  now: () => new Date('2026-12-03T04:00:00.000Z'),
} as unknown as FinalizeDeps; // only the fields RecordPrepareFailure reads without a schedule
const lambdaCause = JSON.stringify({
  errorType: 'Kiln.TemplateInvalid',
  errorMessage: 'Error: Unclosed block',
  trace: [],
});

beforeEach(() => ddb.reset());

describe('RecordPrepareFailure', () => {
  it('puts a FAILED record with the message of the Lambda error document, no builds', async () => {
    ddb.on(PutItemCommand).resolves({});
    const out = await recordPrepareFailure(deps, {
      prepareFailed: {
        start: { template: { bucket: 'tpl', key: 'a/web.pkr.hcl' } },
        error: 'Kiln.TemplateInvalid',
        cause: lambdaCause,
      },
      executionName: 'exec-1',
    });
    expect(out).toMatchObject({ recorded: true, buildId: expect.stringMatching(/^kb-/) });
    const item = ddb.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(item?.ConditionExpression).toBe('attribute_not_exists(#id)');
    expect(item?.Item).toMatchObject({
      status: { S: 'FAILED' },
      trigger: { S: 'request' },
      builds: { L: [] },
      prepareFailure: { M: { error: { S: 'Kiln.TemplateInvalid' }, cause: { S: 'Error: Unclosed block' } } },
    });
  });

  it('marks the record PrepareBuild wrote before failing, instead of replacing it', async () => {
    ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    ddb.on(UpdateItemCommand).resolves({});
    await recordPrepareFailure(deps, {
      prepareFailed: {
        start: { template: { bucket: 'tpl', key: 'a/web.pkr.hcl' } },
        error: 'Kiln.Transient',
        cause: 'x',
      },
      executionName: 'exec-2',
    });
    expect(ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input.ExpressionAttributeValues).toMatchObject({
      ':s': { S: 'FAILED' },
      ':p': { M: { error: { S: 'Kiln.Transient' }, cause: { S: 'x' } } },
    });
  });

  it('records nothing for a start that was not a build request, and says why', async () => {
    const out = await recordPrepareFailure(deps, {
      prepareFailed: { start: { nonsense: true }, error: 'Kiln.InputInvalid', cause: 'bad' },
      executionName: 'exec-3',
    });
    expect(out).toMatchObject({ recorded: false, reason: expect.stringContaining('The build input is not valid') });
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  it('keeps a cause that is not a Lambda error document as given', () => {
    expect(lambdaErrorMessage('States.Timeout after 300 s')).toBe('States.Timeout after 300 s');
    expect(lambdaErrorMessage('{"a":1}')).toBe('{"a":1}');
    expect(lambdaErrorMessage(lambdaCause)).toBe('Error: Unclosed block');
  });
});
