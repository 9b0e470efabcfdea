/**
 * The fleet bound as synthesized from the real registry and ASL: its table (keys of aws/fleet-contract.ts, KMS
 * with the data key, point-in-time recovery, TTL), the stack prop reaching the functions' environment, and
 * least privilege: only AcquireSlot and ReleaseSlot touch the table (item actions, no scan, no index), only
 * AcquireSlot may describe executions, and only those of the stack's build state machine.
 */
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLEET_ENV, FLEET_TABLE } from '../../aws/fleet-contract.ts';
import { DEFAULT_FLEET_POLICY } from '../../core/fleet/slots.ts';
import { KILN_FUNCTIONS } from '../../functions/registry.ts';
import { PROJECT_ROOT } from '../../infra/kiln-app.ts';
import { KilnStack } from '../../infra/kiln-stack.ts';
import {
  actionsOf,
  logicalId,
  resourcesOf,
  type Statement,
  statementsOfRole,
  synthRealStack,
  text,
} from './helpers.ts';

let stack: KilnStack;
let template: Template;
beforeAll(() => {
  ({ stack, template } = synthRealStack());
});

function roleStatements(id: string): Statement[] {
  const fn = stack.pipeline.functions.get(id);
  if (!fn?.role) throw new Error(`no function ${id}`);
  return statementsOfRole(template, logicalId(stack, fn.role));
}

const envOf = (id: string): Record<string, unknown> => {
  const fn = stack.pipeline.functions.get(id);
  if (!fn) throw new Error(`no function ${id}`);
  return template.toJSON().Resources[logicalId(stack, fn)].Properties.Environment.Variables;
};

describe('fleet table', () => {
  it('is keyed as the contract says, on demand, KMS with the data key, PITR on, waiters expiring by TTL', () => {
    const resource = template.toJSON().Resources[logicalId(stack, stack.fleet.table)];
    expect(resource.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: FLEET_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: FLEET_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, stack.keys.dataKey), 'Arn'] },
      },
      TimeToLiveSpecification: { AttributeName: FLEET_TABLE.ttlAttribute, Enabled: true },
    });
    expect(resource.Properties.GlobalSecondaryIndexes).toBeUndefined();
    expect(template.toJSON().Outputs.FleetTableName.Value).toEqual({ Ref: logicalId(stack, stack.fleet.table) });
  });

  it('gives AcquireSlot the table and the default policy, ReleaseSlot the table only', () => {
    expect(envOf('AcquireSlot')).toMatchObject({
      [FLEET_ENV.table]: { Ref: logicalId(stack, stack.fleet.table) },
      [FLEET_ENV.maxConcurrentBuilds]: String(DEFAULT_FLEET_POLICY.maxConcurrentBuilds),
      [FLEET_ENV.waitSeconds]: String(DEFAULT_FLEET_POLICY.waitSeconds),
      [FLEET_ENV.recheckSeconds]: String(DEFAULT_FLEET_POLICY.recheckSeconds),
      [FLEET_ENV.maxWaitSeconds]: String(DEFAULT_FLEET_POLICY.maxWaitSeconds),
    });
    expect(envOf('ReleaseSlot')[FLEET_ENV.table]).toEqual({ Ref: logicalId(stack, stack.fleet.table) });
    expect(envOf('ReleaseSlot')[FLEET_ENV.maxConcurrentBuilds]).toBeUndefined();
  });
});

describe('fleet permissions', () => {
  it('lets only AcquireSlot and ReleaseSlot touch the table: item actions on its ARN, the key through DynamoDB', () => {
    const tableId = logicalId(stack, stack.fleet.table);
    const users = KILN_FUNCTIONS.filter((spec) => text(roleStatements(spec.id)).includes(tableId)).map((s) => s.id);
    expect(users.sort()).toEqual(['AcquireSlot', 'ReleaseSlot']);
    for (const id of users) {
      const onTable = roleStatements(id).filter((s) => text(s.Resource).includes(tableId));
      expect(onTable.flatMap(actionsOf).sort(), id).toEqual([
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
      expect(onTable.flatMap(resourcesOf), id).toEqual([{ 'Fn::GetAtt': [tableId, 'Arn'] }]);
      const kms = roleStatements(id).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
      expect(
        kms.map((s) => text(s.Condition)),
        id,
      ).toEqual([expect.stringContaining('dynamodb.')]);
    }
  });

  it("lets AcquireSlot describe the build state machine's executions, nothing else of Step Functions", () => {
    const states = KILN_FUNCTIONS.flatMap((spec) =>
      roleStatements(spec.id)
        .filter((s) => actionsOf(s).some((a) => a.startsWith('states:') && !a.startsWith('states:SendTask')))
        .map((s) => ({ id: spec.id, s })),
    );
    expect(states.map(({ id, s }) => [id, actionsOf(s)])).toEqual([['AcquireSlot', ['states:DescribeExecution']]]);
    const machine = stack.stateMachines.get('build')?.stateMachine;
    if (!machine) throw new Error('no build state machine');
    const resource = text(states[0]?.s.Resource);
    expect(resource).toContain(':execution:');
    expect(resource).toContain(`{"Fn::GetAtt":["${logicalId(stack, machine)}","Name"]}`);
    expect(resource).toMatch(/:\*"\]\]}$/);
  });

  it('refuses a fleet setting out of bounds, naming it', () => {
    expect(
      () =>
        new KilnStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bad', {
          projectRoot: PROJECT_ROOT,
          stateMachinesDir: join(PROJECT_ROOT, 'statemachines'),
          fleet: { maxConcurrentBuilds: 0 },
        }),
    ).toThrow('KilnStack: fleet.maxConcurrentBuilds must be a whole number from 1 to 10000 (got 0)');
  });
});
