/**
 * Kiln's events as IAM sees them (harness/aws-calls.ts): PutEvents is authorized once per entry, on its bus, with
 * the entry's `events:source` and `events:detail-type`; evaluated against the deployed `kiln-events` statement, a
 * Kiln event is allowed and anything posing as another source or detail-type is denied. The end-to-end replay is
 * in test/integration/events.test.ts.
 */
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ALL_KILN_DETAIL_TYPES } from '../../aws/events-contract.ts';
import { authorizationRequests, type ParsedCall, type ResourceFacts } from '../../harness/aws-calls.ts';
import { evaluate } from '../../harness/iam-evaluate.ts';
import { kilnEventsStatement } from '../../infra/constructs/function-permissions.ts';

const ACCOUNT = '123456789012';
const NO_FACTS = {} as ResourceFacts;
const putEvents = (entries: Record<string, unknown>[]): ParsedCall => ({
  service: 'events',
  action: 'PutEvents',
  region: 'us-east-1',
  params: { Entries: entries },
});

const stack = new Stack(new App(), 'Probe', { env: { account: ACCOUNT, region: 'us-east-1' } });
/** The synthesized statement with its pseudo parameters filled in, as CloudFormation deploys it. */
function deployed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deployed);
  if (!value || typeof value !== 'object') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(deployed).join(sep);
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deployed(x)]));
}
const policy = {
  name: 'kiln-events',
  policy: {
    Version: '2012-10-17',
    Statement: [deployed(stack.resolve(kilnEventsStatement({ stack }).toStatementJson()))],
  },
};
const ROLE = `arn:aws:iam::${ACCOUNT}:role/FinalizeRole`;

describe('PutEvents in the IAM model', () => {
  it('authorizes each entry on its bus with its source and detail-type', async () => {
    expect(
      await authorizationRequests(
        putEvents([
          { Source: 'kiln', DetailType: 'Kiln Build Started', Detail: '{}' },
          { Source: 'kiln', DetailType: 'Kiln Channel Updated', Detail: '{}', EventBusName: 'other' },
        ]),
        ACCOUNT,
        NO_FACTS,
      ),
    ).toEqual([
      {
        action: 'events:PutEvents',
        resource: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`,
        context: { 'events:source': ['kiln'], 'events:detail-type': ['Kiln Build Started'] },
      },
      {
        action: 'events:PutEvents',
        resource: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/other`,
        context: { 'events:source': ['kiln'], 'events:detail-type': ['Kiln Channel Updated'] },
      },
    ]);
    expect(await authorizationRequests({ ...putEvents([]), action: 'ListRules' }, ACCOUNT, NO_FACTS)).toBeUndefined();
  });

  it('allows every Kiln event on the default bus, and nothing posing as another source, type or bus', async () => {
    const decide = async (entry: Record<string, unknown>) => {
      const [request] = (await authorizationRequests(putEvents([entry]), ACCOUNT, NO_FACTS)) ?? [];
      if (!request) throw new Error('not modelled');
      return (await evaluate(ROLE, [policy], request)).allowed;
    };
    for (const detailType of ALL_KILN_DETAIL_TYPES) {
      expect(await decide({ Source: 'kiln', DetailType: detailType }), detailType).toBe(true);
    }
    expect(await decide({ Source: 'aws.s3', DetailType: 'Object Created' })).toBe(false);
    expect(await decide({ Source: 'kiln', DetailType: 'Object Created' })).toBe(false);
    expect(await decide({ Source: 'kiln.scheduler', DetailType: 'Kiln Build Started' })).toBe(false);
    expect(await decide({ Source: 'kiln', DetailType: 'Kiln Build Started', EventBusName: 'other' })).toBe(false);
  });
});
