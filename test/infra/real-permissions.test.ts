/**
 * Permissions as deployed: the stack synthesized from the real registry (functions/registry.ts) and the real
 * state machine (statemachines/), so a scope removed from a function or a statement changed in
 * infra/constructs/ fails here. (kiln-stack.test.ts keeps a fixture registry for the construct's mechanics:
 * env wiring, log groups, substitution of placeholders, which must not depend on the pipeline's progress.)
 */
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { KILN_FUNCTIONS, type PermissionScope, placeholderFor } from '../../functions/registry.ts';
import { loadStateMachine } from '../../infra/asl-files.ts';
import { placeholdersIn } from '../../infra/asl-placeholders.ts';
import { EC2_DESCRIBE_ACTIONS, RUN_COMMAND_DOCUMENTS } from '../../infra/constructs/function-permissions.ts';
import { STAR_ONLY_ACTIONS } from '../../infra/constructs/wildcard-justifications.ts';
import { taskFunctionsOf } from '../../infra/function-triggers.ts';
import { PROJECT_ROOT } from '../../infra/kiln-app.ts';
import type { KilnStack } from '../../infra/kiln-stack.ts';
import {
  actionsOf,
  allActions,
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

const EC2_MUTATING = [
  'ec2:RunInstances',
  'ec2:TerminateInstances',
  'ec2:StopInstances',
  'ec2:CreateImage',
  'ec2:CopyImage',
  'ec2:DeregisterImage',
  'ec2:DeleteSnapshot',
  'ec2:CreateTags',
  'ec2:ModifyImageAttribute',
  'ec2:ModifySnapshotAttribute',
  'ec2:EnableImageDeprecation',
];

function functionRole(id: string): Statement[] {
  const fn = stack.pipeline.functions.get(id);
  if (!fn) throw new Error(`no function ${id}`);
  return statementsOfRole(template, logicalId(stack, fn.role ?? fn));
}

const has = (id: string, scope: PermissionScope) =>
  KILN_FUNCTIONS.find((spec) => spec.id === id)?.permissions.includes(scope) ?? false;

describe('function permissions of the real registry', () => {
  it('deploys one role per registry function', () => {
    expect([...stack.pipeline.functions.keys()].sort()).toEqual(KILN_FUNCTIONS.map((f) => f.id).sort());
  });

  it.each(KILN_FUNCTIONS.map((spec) => [spec.id] as const))('%s may touch exactly what its scopes name', (id) => {
    const statements = functionRole(id);
    const actions = allActions(statements);
    const touches = (logical: string) => statements.some((s) => text(s.Resource).includes(logical));
    const lifecycleEc2 = new Set([
      'ec2:DescribeImages',
      'ec2:EnableImageDeprecation',
      'ec2:DeregisterImage',
      'ec2:DeleteSnapshot',
    ]);
    expect(
      [...actions].some((a) => a.startsWith('ec2:') && !lifecycleEc2.has(a)),
      'ec2',
    ).toBe(has(id, 'builder-ec2'));
    expect(
      [...actions].some((a) => lifecycleEc2.has(a) && a !== 'ec2:DescribeImages'),
      'ec2 retire images',
    ).toBe(has(id, 'builder-ec2') || has(id, 'registry-lifecycle'));
    expect(actions.has('ssm:SendCommand'), 'ssm:SendCommand').toBe(has(id, 'ssm-commands'));
    expect(actions.has('ssm:GetCommandInvocation'), 'ssm:GetCommandInvocation').toBe(has(id, 'ssm-commands'));
    expect(actions.has('iam:PassRole'), 'iam:PassRole').toBe(
      has(id, 'pass-builder-role') || has(id, 'schedule-control'),
    );
    expect(
      [...actions].some((a) => a.startsWith('scheduler:')),
      'scheduler',
    ).toBe(has(id, 'schedule-control'));
    expect(
      [...actions].some((a) => a.startsWith('events:')),
      'events',
    ).toBe(has(id, 'kiln-events'));
    expect(touches(logicalId(stack, stack.store.templateBucket)), 'template bucket').toBe(has(id, 'templates-read'));
    expect(touches(logicalId(stack, stack.store.buildsTable)), 'builds table').toBe(has(id, 'builds-table'));
    expect(touches(logicalId(stack, stack.registry.table)), 'registry table').toBe(
      has(id, 'registry-write') || has(id, 'registry-lifecycle'),
    );
    expect(actions.has('ssm:PutParameter'), 'ssm:PutParameter').toBe(has(id, 'registry-write'));
    const artifacts =
      has(id, 'artifacts-rw') ||
      has(id, 'manifests-write') ||
      has(id, 'build-secrets') ||
      has(id, 'agent-downloads') ||
      has(id, 'agent-uploads');
    expect(touches(logicalId(stack, stack.agentTable.table)), 'agent table').toBe(has(id, 'agent-table'));
    expect(touches(logicalId(stack, stack.fleet.table)), 'fleet table').toBe(has(id, 'fleet-table'));
    expect(actions.has('states:DescribeExecution'), 'states:DescribeExecution').toBe(has(id, 'fleet-executions'));
    expect(
      [...actions].some((a) => a.startsWith('states:SendTask')),
      'states:SendTask*',
    ).toBe(has(id, 'agent-task-callbacks'));
    expect(touches(logicalId(stack, stack.store.artifactsBucket)), 'artifacts bucket').toBe(artifacts);
    // Deleting staged files is artifacts-rw's (Finalize and Cleanup rely on it); manifests are never deleted.
    const deletes = statements.filter((s) => actionsOf(s).includes('s3:DeleteObject')).flatMap(resourcesOf);
    expect(
      deletes.map(text).some((r) => r.includes('/builds/*')),
      's3:DeleteObject builds/',
    ).toBe(has(id, 'artifacts-rw'));
    expect(
      deletes.map(text).some((r) => r.includes('/manifests/')),
      's3:DeleteObject manifests/',
    ).toBe(false);
  });

  it('lets only the gateway read agent job files, presigned by acquire: the bundle and the variables document', () => {
    expect(KILN_FUNCTIONS.filter((f) => f.permissions.includes('agent-downloads')).map((f) => f.id)).toEqual([
      'AgentAcquire',
    ]);
    const reads = functionRole('AgentAcquire').filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    expect(reads.flatMap(actionsOf)).toEqual(['s3:GetObject']);
    expect(reads.flatMap(resourcesOf).map(text)).toEqual([
      expect.stringMatching(/\/builds\/\*\/files\/\.kiln\/agent-template\.tar\.gz"\]\]}$/),
      expect.stringMatching(/\/secrets\/\*\/agent-variables\.json"\]\]}$/),
    ]);
  });

  it('lets only the uploads handler write agent artifacts: PutObject under agent-artifacts/, the data key via S3', () => {
    expect(KILN_FUNCTIONS.filter((f) => f.permissions.includes('agent-uploads')).map((f) => f.id)).toEqual([
      'AgentUpload',
    ]);
    const statements = functionRole('AgentUpload');
    const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    expect(s3.flatMap(actionsOf)).toEqual(['s3:PutObject']);
    expect(s3.flatMap(resourcesOf).map(text)).toEqual([expect.stringMatching(/\/agent-artifacts\/\*"\]\]}$/)]);
    // Through S3 only (the agent table's own key statements go through DynamoDB): encrypt, never decrypt.
    const kms = statements.filter(
      (s) => actionsOf(s).some((a) => a.startsWith('kms:')) && text(s.Condition).includes('s3.'),
    );
    expect(kms.flatMap(actionsOf)).toEqual(['kms:GenerateDataKey']);
    expect(kms.map((s) => text(s.Condition))).toEqual([expect.stringContaining('kms:ViaService')]);
    expect(kms.flatMap(resourcesOf).map(text)).toEqual([expect.stringContaining(logicalId(stack, stack.keys.dataKey))]);
    // Nothing else of the bucket: no read, list or delete anywhere, builds/ (which expires) included.
    expect(
      statements
        .flatMap(resourcesOf)
        .map(text)
        .filter((r) => r.includes('/builds/')),
    ).toEqual([]);
  });

  it('lets Finalize write the registry table, its index and the /kiln channel parameters, nothing more', () => {
    expect(KILN_FUNCTIONS.filter((f) => f.permissions.includes('registry-write')).map((f) => f.id)).toEqual([
      'Finalize',
    ]);
    const statements = functionRole('Finalize');
    const table = logicalId(stack, stack.registry.table);
    const onTable = statements.filter((s) => text(s.Resource).includes(table));
    expect(onTable.flatMap(actionsOf).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    const tableResources = onTable.flatMap(resourcesOf).map(text);
    expect(tableResources.some((r) => r.includes('/index/byTemplate'))).toBe(true);
    expect(tableResources.some((r) => r.includes('*'))).toBe(false);
    const put = statements.filter((s) => actionsOf(s).includes('ssm:PutParameter'));
    expect(put.flatMap(actionsOf)).toEqual(['ssm:PutParameter']);
    const params = put.flatMap(resourcesOf).map(text);
    expect(params).toHaveLength(1);
    expect(params[0]).toMatch(/:ssm:\*:.*:parameter\/kiln\/\*/);
  });

  it('lets only Lifecycle retire images: Kiln-tagged AMIs and snapshots in any region, Kiln-managed ECR repositories, the registry marked by UpdateItem only', () => {
    expect(KILN_FUNCTIONS.filter((f) => f.permissions.includes('registry-lifecycle')).map((f) => f.id)).toEqual([
      'Lifecycle',
    ]);
    const statements = functionRole('Lifecycle');
    const table = logicalId(stack, stack.registry.table);
    const onTable = statements.filter((s) => text(s.Resource).includes(table));
    expect(onTable.flatMap(actionsOf).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
    ]);
    const retire = statements.find((s) => s.Sid === 'RetireKilnImages') as Statement;
    expect(actionsOf(retire).sort()).toEqual([
      'ec2:DeleteSnapshot',
      'ec2:DeregisterImage',
      'ec2:EnableImageDeprecation',
    ]);
    expect(retire.Condition).toEqual({ Null: { 'aws:ResourceTag/kiln:build-id': 'false' } });
    expect(resourcesOf(retire).map(text).join()).toMatch(/:ec2:\*::image\/\*.*:ec2:\*::snapshot\/\*/);
    const ecrDelete = statements.filter((s) => actionsOf(s).includes('ecr:BatchDeleteImage'));
    expect(ecrDelete).toHaveLength(1);
    expect(ecrDelete[0]?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/kiln:managed': 'true' } });
    const all = allActions(statements);
    for (const never of ['ssm:PutParameter', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'ec2:CreateTags']) {
      expect(all.has(never), never).toBe(false);
    }
  });

  it('schedules Lifecycle daily through an EventBridge rule that may invoke it', () => {
    const fn = stack.pipeline.functions.get('Lifecycle');
    const rules = template.findResources('AWS::Events::Rule', {
      Properties: { ScheduleExpression: 'rate(1 day)' },
    });
    const targets = Object.values(rules).flatMap(
      (r) => (r as { Properties: { Targets: { Arn: unknown }[] } }).Properties.Targets,
    );
    expect(targets.map((t) => text(t.Arn))).toEqual([expect.stringContaining(logicalId(stack, fn as never))]);
    const env = text(template.findResources('AWS::Lambda::Function'));
    for (const key of ['KILN_LIFECYCLE_KEEP', 'KILN_LIFECYCLE_GRACE_DAYS', 'KILN_LIFECYCLE_ROLLBACK_PROTECTION']) {
      expect(env).toContain(key);
    }
  });

  it("lets PrepareBuild read base image digests only with DescribeImages on the account's Kiln-managed repositories", () => {
    expect(KILN_FUNCTIONS.filter((f) => f.permissions.includes('ecr-digests')).map((f) => f.id)).toEqual([
      'PrepareBuild',
    ]);
    const ecr = functionRole('PrepareBuild').filter((s) => actionsOf(s).some((a) => a.startsWith('ecr:')));
    expect(ecr.map((s) => s.Sid)).toEqual(['ReadBaseImageDigests']);
    expect(ecr[0]?.Action).toBe('ecr:DescribeImages');
    expect(text(ecr[0]?.Resource)).toMatch(/:ecr:.*:repository\/\*"\]\]\}$/);
    expect(ecr[0]?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/kiln:managed': 'true' } });
    // The mirror map is not set by the stack: a deployed PrepareBuild reaches only https registries.
    const fn = stack.pipeline.functions.get('PrepareBuild');
    const resources = template.findResources('AWS::Lambda::Function');
    const own = resources[logicalId(stack, fn as never)] as { Properties: { Environment: { Variables: object } } };
    expect(Object.keys(own.Properties.Environment.Variables)).toContain('KILN_ACCOUNT_ID');
    expect(Object.keys(own.Properties.Environment.Variables)).not.toContain('KILN_REGISTRY_MIRRORS');
  });

  it('lets PrepareBuild and Finalize put only Kiln events (source kiln, its detail-types) on the default bus', () => {
    expect(KILN_FUNCTIONS.filter((f) => f.permissions.includes('kiln-events')).map((f) => f.id)).toEqual([
      'PrepareBuild',
      'Finalize',
    ]);
    for (const id of ['PrepareBuild', 'Finalize']) {
      const events = functionRole(id).filter((s) => actionsOf(s).some((a) => a.startsWith('events:')));
      expect(events.map((s) => s.Sid)).toEqual(['PutKilnEvents']);
      const [statement] = events;
      expect(statement?.Action).toBe('events:PutEvents');
      expect(text(statement?.Resource)).toMatch(/:event-bus\/default/);
      expect(statement?.Condition).toEqual({
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
        'ForAllValues:StringEquals': {
          'events:source': ['kiln'],
          'events:detail-type': [
            'Kiln Build Started',
            'Kiln Build Succeeded',
            'Kiln Build Failed',
            'Kiln Channel Updated',
            'Kiln Artifact Revoked',
            'Kiln Schedule Disabled',
          ],
        },
      });
    }
  });

  it('lets Finalize disable schedules of the stack group only, pass only their role to Scheduler, and put only its event', () => {
    expect(KILN_FUNCTIONS.filter((f) => f.permissions.includes('schedule-control')).map((f) => f.id)).toEqual([
      'Finalize',
    ]);
    const statements = functionRole('Finalize');
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid);
    const scheduler = bySid('DisableKilnSchedules');
    if (!scheduler) throw new Error('no DisableKilnSchedules statement');
    expect(actionsOf(scheduler).sort()).toEqual(['scheduler:GetSchedule', 'scheduler:UpdateSchedule']);
    expect(text(scheduler?.Resource)).toMatch(/:scheduler:.*:schedule\/kiln\/\*/);
    expect(bySid('PassScheduleRoleToScheduler')).toEqual(
      expect.objectContaining({
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [logicalId(stack, stack.triggers.startRole), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    // Its `Kiln Schedule Disabled` event goes through kiln-events' one statement.
    expect(bySid('PutScheduleDisabledEvents')).toBeUndefined();
    expect(text(bySid('PutKilnEvents')?.Condition)).toContain('Kiln Schedule Disabled');
    const finalize = stack.pipeline.functions.get('Finalize');
    if (!finalize) throw new Error('missing');
    const env = template.toJSON().Resources[logicalId(stack, finalize)].Properties.Environment.Variables;
    expect([env.KILN_SCHEDULE_GROUP, env.KILN_SCHEDULE_FAILURE_LIMIT]).toEqual(['kiln', '3']);
  });

  it('lets only LaunchBuilder pass a role to EC2 (the builder role), and Finalize only the schedule role', () => {
    for (const spec of KILN_FUNCTIONS) {
      const pass = functionRole(spec.id).filter(
        (s) => actionsOf(s).includes('iam:PassRole') && s.Sid !== 'PassScheduleRoleToScheduler',
      );
      if (spec.id !== 'LaunchBuilder') {
        expect(pass, spec.id).toEqual([]);
        continue;
      }
      expect(pass).toEqual([
        expect.objectContaining({
          Resource: { 'Fn::GetAtt': [logicalId(stack, stack.builder.role), 'Arn'] },
          Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
        }),
      ]);
    }
  });

  it.each(KILN_FUNCTIONS.filter((s) => s.permissions.includes('builder-ec2')).map((s) => [s.id] as const))(
    '%s: every mutating EC2 statement is conditioned, except the few that only create or read',
    (id) => {
      // Each exception is deliberate: launching reads any source AMI; CreateImage's snapshots and CopyImage's
      // copies are new resources the stages tag right after (their sources are tag-constrained elsewhere).
      const unconditioned: Record<string, string[]> = {
        RunBuildersFromAnyImage: ['ec2:RunInstances'],
        CreateImageSnapshots: ['ec2:CreateImage'],
        CopyImages: ['ec2:CopyImage'],
      };
      const mutating = functionRole(id).filter((s) => actionsOf(s).some((a) => EC2_MUTATING.includes(a)));
      for (const s of mutating) {
        expect(resourcesOf(s), s.Sid).not.toContain('*');
        const exception = unconditioned[s.Sid ?? ''];
        if (exception) {
          expect(actionsOf(s)).toEqual(exception);
          expect(resourcesOf(s).map(text).join()).toMatch(/:(image|snapshot)\/\*/);
          expect(resourcesOf(s).map(text).join()).not.toMatch(/:instance\//);
          continue;
        }
        expect(text(s.Condition), s.Sid).toMatch(/aws:(Request|Resource)Tag\/kiln:build-id|ec2:CreateAction|ec2:Vpc/);
      }
      expect([...new Set(mutating.flatMap(actionsOf))].sort()).toEqual([...EC2_MUTATING].sort());
      const destructive = mutating.filter((s) =>
        actionsOf(s).some((a) =>
          ['ec2:TerminateInstances', 'ec2:StopInstances', 'ec2:DeregisterImage', 'ec2:DeleteSnapshot'].includes(a),
        ),
      );
      expect(destructive.length).toBeGreaterThan(0);
      for (const s of destructive) expect(s.Condition).toEqual({ Null: { 'aws:ResourceTag/kiln:build-id': 'false' } });
    },
  );

  it('tags on create only through RunInstances, CreateImage and CopyImage', () => {
    const tagOnCreate = functionRole('LaunchBuilder').find((s) => s.Sid === 'TagOnCreateOnly');
    expect(tagOnCreate?.Condition).toEqual({
      StringEquals: { 'ec2:CreateAction': ['RunInstances', 'CreateImage', 'CopyImage'] },
    });
  });

  it('requires the build tag when launching instances and volumes, and the builder VPC for network resources', () => {
    const statements = functionRole('LaunchBuilder');
    const tagged = statements.find((s) => s.Sid === 'RunTaggedBuilders');
    expect(tagged?.Condition).toEqual({ Null: { 'aws:RequestTag/kiln:build-id': 'false' } });
    expect(
      resourcesOf(tagged as Statement)
        .map(text)
        .join(),
    ).toMatch(/instance\/\*.*volume\/\*/);
    const network = statements.find((s) => s.Sid === 'RunBuildersInBuilderVpc');
    expect(text(network?.Condition)).toContain(logicalId(stack, stack.network.vpc));
  });

  it.each(KILN_FUNCTIONS.filter((s) => s.permissions.includes('ssm-commands')).map((s) => [s.id] as const))(
    '%s: SendCommand only with the two run-script documents, on Kiln-tagged instances',
    (id) => {
      const send = functionRole(id).filter((s) => actionsOf(s).includes('ssm:SendCommand'));
      expect(send).toHaveLength(2);
      const documents = send.find((s) => s.Sid === 'SendRunCommandDocuments');
      const docText = resourcesOf(documents as Statement).map(text);
      expect(docText).toHaveLength(RUN_COMMAND_DOCUMENTS.length);
      for (const [i, name] of RUN_COMMAND_DOCUMENTS.entries()) expect(docText[i]).toContain(`::document/${name}`);
      const instances = send.find((s) => s.Sid === 'SendCommandToKilnBuilders');
      expect(
        resourcesOf(instances as Statement)
          .map(text)
          .join(),
      ).toMatch(/:instance\/\*/);
      expect(instances?.Condition).toEqual({ Null: { 'ssm:resourceTag/kiln:build-id': 'false' } });
    },
  );

  it('grants no function a mutating action on "*"', () => {
    for (const spec of KILN_FUNCTIONS) {
      for (const s of functionRole(spec.id)) {
        if (!resourcesOf(s).includes('*')) continue;
        for (const action of actionsOf(s)) expect(STAR_ONLY_ACTIONS.has(action), `${spec.id} ${action}`).toBe(true);
      }
    }
    expect(functionRole('LaunchBuilder').find((s) => s.Sid === 'DescribeEc2')?.Action).toEqual([
      ...EC2_DESCRIBE_ACTIONS,
    ]);
  });
});

describe('build state machine of the real registry', () => {
  const stateFunctions = taskFunctionsOf(KILN_FUNCTIONS, 'build');

  it('substitutes every function placeholder of statemachines/build.asl.json with the deployed function', () => {
    const machine = stack.stateMachines.get('build');
    if (!machine) throw new Error('missing');
    const props = template.toJSON().Resources[logicalId(stack, machine.stateMachine)].Properties;
    const asl = loadStateMachine(join(PROJECT_ROOT, 'statemachines/build.asl.json')).text;
    expect(Object.keys(props.DefinitionSubstitutions).sort()).toEqual(placeholdersIn(asl));
    for (const spec of stateFunctions) {
      const fn = stack.pipeline.functions.get(spec.id);
      if (!fn) throw new Error('missing');
      expect(props.DefinitionSubstitutions[placeholderFor(spec)]).toEqual({
        'Fn::GetAtt': [logicalId(stack, fn), 'Arn'],
      });
    }
  });

  it('may invoke exactly the functions its states call (not ShellLocal, which only RunProvisioner invokes)', () => {
    const machine = stack.stateMachines.get('build');
    if (!machine) throw new Error('missing');
    const statements = statementsOfRole(template, logicalId(stack, machine.stateMachine.role));
    const invoke = statements.filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    const arnOf = (id: string) => {
      const fn = stack.pipeline.functions.get(id);
      if (!fn) throw new Error('missing');
      return { 'Fn::GetAtt': [logicalId(stack, fn), 'Arn'] };
    };
    expect(resourcesOf(invoke[0] as Statement)).toEqual(stateFunctions.map((spec) => arnOf(spec.id)));
    const shellLocal = KILN_FUNCTIONS.filter((spec) => spec.trigger.kind === 'function').map((spec) =>
      text(arnOf(spec.id)),
    );
    expect(shellLocal.length).toBeGreaterThan(0);
    for (const arn of shellLocal) expect(resourcesOf(invoke[0] as Statement).map(text)).not.toContain(arn);
  });
});
