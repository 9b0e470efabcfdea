import { join } from 'node:path';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createKilnApp, PROJECT_ROOT } from '../../infra/kiln-app.ts';
import type { KilnStack } from '../../infra/kiln-stack.ts';
import { FIXTURE_FUNCTIONS } from '../fixtures/infra/registry.ts';

export const FIXTURE_DIR = join(PROJECT_ROOT, 'test/fixtures/infra');

/** Synthesizes the Kiln stack with the fixture registry and ASL, bundling skipped; cdk-nag runs as in `cdk synth`. */
export function synthFixtureStack(context: Record<string, unknown> = {}): { stack: KilnStack; template: Template } {
  const { stack } = createKilnApp({
    appProps: {
      context: {
        'aws:cdk:bundling-stacks': [],
        'kiln:stateMachinesDir': 'test/fixtures/infra/statemachines',
        ...context,
      },
    },
    functions: FIXTURE_FUNCTIONS,
    functionsRoot: join(FIXTURE_DIR, 'functions'),
  });
  return { stack, template: Template.fromStack(stack) };
}

/**
 * Synthesizes the Kiln stack as `cdk synth` does (the real registry functions/registry.ts and statemachines/),
 * bundling skipped; cdk-nag runs. Permission tests use this one: what they assert is what gets deployed.
 */
export function synthRealStack(context: Record<string, unknown> = {}): { stack: KilnStack; template: Template } {
  const { stack } = createKilnApp({ appProps: { context: { 'aws:cdk:bundling-stacks': [], ...context } } });
  return { stack, template: Template.fromStack(stack) };
}

export function logicalId(stack: Stack, construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return stack.resolve(stack.getLogicalId(element)) as string;
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every statement of every AWS::IAM::Policy attached to the role with this logical id. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const statements: Statement[] = [];
  for (const policy of Object.values(policies)) {
    const roles = (policy.Properties.Roles ?? []) as Array<{ Ref?: string }>;
    if (!roles.some((role) => role.Ref === roleLogicalId)) continue;
    statements.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
  }
  return statements;
}

export function actionsOf(statement: Statement): string[] {
  return [statement.Action].flat();
}

export function resourcesOf(statement: Statement): unknown[] {
  return [statement.Resource].flat();
}

/** All actions a role may perform, flattened. */
export function allActions(statements: Statement[]): Set<string> {
  return new Set(statements.flatMap(actionsOf));
}

/** JSON text of a CloudFormation value, for matching ARN shapes inside Fn::Join. */
export function text(value: unknown): string {
  return JSON.stringify(value);
}
