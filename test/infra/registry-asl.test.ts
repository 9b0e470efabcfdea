import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ECS_AL2023_AMI_PARAMETER } from '../../aws/docker-host.ts';
import { KILN_FUNCTIONS, type PermissionScope, placeholderFor } from '../../functions/registry.ts';
import { listStateMachines, loadStateMachine } from '../../infra/asl-files.ts';
import { compareSubstitutions, describeMismatch, placeholdersIn } from '../../infra/asl-placeholders.ts';
import { type PermissionTargets, statementsFor } from '../../infra/constructs/function-permissions.ts';
import {
  invocationProblems,
  stateMachineProblems,
  taskFunctionsOf,
  taskPlaceholdersOf,
} from '../../infra/function-triggers.ts';
import { PROJECT_ROOT } from '../../infra/kiln-app.ts';
import { BUILD_STATE_MACHINE_FILE, SHARED_SUBSTITUTION_NAMES } from '../../infra/kiln-stack.ts';

// The real registry against the real ASL files, composed: what `cdk synth` will substitute, checked without
// synthesizing. The registry's `trigger` says which machine each function is a task of.
const STATEMACHINES = join(PROJECT_ROOT, 'statemachines');
const machines = listStateMachines(STATEMACHINES).map((machine) => ({
  ...machine,
  composed: loadStateMachine(machine.path),
}));
const allFunctionPlaceholders = new Set(KILN_FUNCTIONS.map(placeholderFor));

describe('registry and ASL files agree', () => {
  it('has the build state machine', () => {
    expect(machines.map((machine) => `${machine.name}.asl.json`)).toContain(BUILD_STATE_MACHINE_FILE);
  });

  it.each(machines.map((machine) => [machine.name, machine] as const))(
    '%s: every placeholder of the composed definition has a substitution (a task function or a shared value)',
    (name, machine) => {
      const offered = [...taskPlaceholdersOf(KILN_FUNCTIONS, name), ...SHARED_SUBSTITUTION_NAMES];
      const mismatch = compareSubstitutions(machine.composed.text, offered);
      expect(describeMismatch({ missing: mismatch.missing, unused: [] }, machine.composed.files)).toBe('');
    },
  );

  it.each(machines.map((machine) => [machine.name, machine] as const))(
    '%s: uses the placeholder of every function whose trigger is a task of it, and of no other function',
    (name, machine) => {
      const used = placeholdersIn(machine.composed.text).filter((p) => allFunctionPlaceholders.has(p));
      expect(used).toEqual(taskPlaceholdersOf(KILN_FUNCTIONS, name));
    },
  );

  it('names only state machines that exist in task triggers, and gives every machine a task', () => {
    const names = machines.map((machine) => machine.name);
    expect(stateMachineProblems(KILN_FUNCTIONS, names)).toEqual([]);
    for (const name of names) expect(taskFunctionsOf(KILN_FUNCTIONS, name).length, name).toBeGreaterThan(0);
  });

  it('includes every child file under statemachines/ from some state machine (none lies unused)', () => {
    const listChildren = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? listChildren(join(dir, entry.name)) : [join(dir, entry.name)],
      );
    const children = readdirSync(STATEMACHINES, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .flatMap((entry) => listChildren(join(STATEMACHINES, entry.name)))
      .map((file) => relative(STATEMACHINES, file));
    const included = machines.flatMap((machine) => machine.composed.files.slice(1).map((file) => file.name));
    expect(children.length).toBeGreaterThan(0);
    expect(children.sort()).toEqual([...included].sort());
  });

  it.each(KILN_FUNCTIONS.map((spec) => [spec.id, spec.dir] as const))('%s has functions/%s/handler.ts', (_id, dir) => {
    expect(existsSync(join(PROJECT_ROOT, 'functions', dir, 'handler.ts'))).toBe(true);
  });
});

describe('function triggers and invokes', () => {
  it("agree in the real registry: every function trigger is in its caller's invokes, and the reverse", () => {
    expect(invocationProblems(KILN_FUNCTIONS)).toEqual([]);
    // Not vacuous: the registry has a direct invocation (RunProvisioner → ShellLocal).
    expect(KILN_FUNCTIONS.some((spec) => spec.trigger.kind === 'function')).toBe(true);
  });

  const shellLocal = KILN_FUNCTIONS.find((spec) => spec.id === 'ShellLocal');
  const runProvisioner = KILN_FUNCTIONS.find((spec) => spec.id === 'RunProvisioner');
  if (!shellLocal || !runProvisioner) throw new Error('ShellLocal and RunProvisioner are in the registry');
  const replace = (...specs: (typeof KILN_FUNCTIONS)[number][]) =>
    KILN_FUNCTIONS.map((spec) => specs.find((s) => s.id === spec.id) ?? spec);

  it('refuses a function trigger whose caller does not list it in invokes', () => {
    const { invokes: _dropped, ...withoutInvokes } = runProvisioner;
    expect(invocationProblems(replace(withoutInvokes))).toEqual([
      'ShellLocal is triggered by RunProvisioner, whose invokes does not list it',
    ]);
  });

  it('refuses invokes naming a function whose trigger is not that caller', () => {
    expect(invocationProblems(replace({ ...shellLocal, trigger: { kind: 'task', stateMachine: 'build' } }))).toEqual([
      "RunProvisioner invokes ShellLocal, whose trigger is not { kind: 'function', by: 'RunProvisioner' }",
    ]);
  });

  it('refuses a function trigger naming a caller that does not exist', () => {
    const problems = invocationProblems(replace({ ...shellLocal, trigger: { kind: 'function', by: 'Nobody' } }));
    expect(problems).toContain('ShellLocal is triggered by Nobody, which is not in the registry');
  });

  it('refuses a task of a state machine that has no file', () => {
    const names = machines.map((machine) => machine.name);
    const specs = replace({ ...runProvisioner, trigger: { kind: 'task', stateMachine: 'sweeper' } });
    expect(stateMachineProblems(specs, names)).toEqual([
      'RunProvisioner is a task of state machine "sweeper", which has no .asl.json file',
    ]);
  });
});

describe('permission scopes', () => {
  const stack = new Stack(new App(), 'Scopes');
  const targets: PermissionTargets = {
    stack,
    artifactsBucketArn: 'arn:aws:s3:::artifacts',
    templateBucketArn: 'arn:aws:s3:::templates',
    dataKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/data',
    buildsTableArn: 'arn:aws:dynamodb:us-east-1:111122223333:table/builds',
    registryTableArn: 'arn:aws:dynamodb:us-east-1:111122223333:table/registry',
    agentTableArn: 'arn:aws:dynamodb:us-east-1:111122223333:table/agents',
    fleetTableArn: 'arn:aws:dynamodb:us-east-1:111122223333:table/fleet',
    buildExecutionsArn: 'arn:aws:states:us-east-1:111122223333:execution:build:*',
    builderRoleArn: 'arn:aws:iam::111122223333:role/builder',
    secretScope: { prefix: 'kiln/' },
    builderVpcId: 'vpc-0123456789abcdef0',
    provisionLogGroupArn: 'arn:aws:logs:us-east-1:111122223333:log-group:provision',
    buildKmsKeyArns: ['arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    dockerHostAmiParameter: ECS_AL2023_AMI_PARAMETER,
    schedules: { groupName: 'kiln', startRoleArn: 'arn:aws:iam::111122223333:role/kiln-start' },
  };
  const scopes = [...new Set(KILN_FUNCTIONS.flatMap((spec) => spec.permissions))] as PermissionScope[];

  it.each(scopes)('%s turns into statements with a sid and no Allow of a service wildcard', (scope) => {
    const statements = statementsFor(scope, targets).map(
      (s) => s.toStatementJson() as { Sid?: string; Action: unknown },
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.Sid).toMatch(/^[A-Za-z0-9]+$/);
      for (const action of [statement.Action].flat() as string[]) expect(action).not.toMatch(/:\*$|^\*$/);
    }
  });
});
