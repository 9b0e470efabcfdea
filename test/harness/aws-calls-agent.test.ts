/**
 * The agent gateway's AWS calls as IAM sees them (harness/aws-calls.ts): a Query of the `byState` index is
 * authorized on the index ARN, item calls on the table, and the Step Functions task callbacks on `*` (IAM has no
 * resource type for them). The end-to-end replay is in test/integration/agent-gateway-local.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { authorizationRequests, type ParsedCall, type ResourceFacts } from '../../harness/aws-calls.ts';

const ACCOUNT = '123456789012';
const NO_FACTS = {} as ResourceFacts; // none of these calls reads a resource fact
const call = (service: string, action: string, params: Record<string, unknown>): ParsedCall => ({
  service,
  action,
  region: 'us-east-1',
  params,
});

describe('agent gateway calls in the IAM model', () => {
  it('authorizes a Query of an index on the index, and item calls on the table', async () => {
    expect(
      await authorizationRequests(
        call('dynamodb', 'Query', { TableName: 'agents', IndexName: 'byState' }),
        ACCOUNT,
        NO_FACTS,
      ),
    ).toEqual([
      {
        action: 'dynamodb:Query',
        resource: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/agents/index/byState`,
        context: {},
      },
    ]);
    expect(
      await authorizationRequests(call('dynamodb', 'UpdateItem', { TableName: 'agents' }), ACCOUNT, NO_FACTS),
    ).toEqual([
      { action: 'dynamodb:UpdateItem', resource: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/agents`, context: {} },
    ]);
  });

  it('authorizes the task callbacks on *, and leaves other Step Functions calls unmodelled', async () => {
    for (const action of ['SendTaskSuccess', 'SendTaskFailure', 'SendTaskHeartbeat']) {
      expect(await authorizationRequests(call('states', action, { taskToken: 't' }), ACCOUNT, NO_FACTS)).toEqual([
        { action: `states:${action}`, resource: '*', context: {} },
      ]);
    }
    expect(await authorizationRequests(call('states', 'ListStateMachines', {}), ACCOUNT, NO_FACTS)).toBeUndefined();
  });
});
