import { join } from 'node:path';
import { App, Aspects, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import {
  KILN_WILDCARD_JUSTIFICATIONS,
  WildcardJustifications,
} from '../../infra/constructs/wildcard-justifications.ts';
import { createKilnApp } from '../../infra/kiln-app.ts';
import { FIXTURE_FUNCTIONS } from '../fixtures/infra/registry.ts';
import { FIXTURE_DIR } from './helpers.ts';

/** A role with one statement, in an app with AwsSolutions checks and Kiln's wildcard justifications. */
function synthRole(statement: iam.PolicyStatement): () => Template {
  const app = new App();
  const stack = new Stack(app, 'NagProbe');
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPrincipalPolicy(statement);
  Aspects.of(stack).add(new WildcardJustifications());
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return () => Template.fromStack(stack);
}

describe('WildcardJustifications', () => {
  it('acknowledges a justified resource wildcard (log streams of a pinned group)', () => {
    const synth = synthRole(
      new iam.PolicyStatement({
        actions: ['logs:PutLogEvents'],
        resources: ['arn:aws:logs:us-east-1:111122223333:log-group:kiln:log-stream:*'],
      }),
    );
    expect(synth).not.toThrow();
  });

  it('acknowledges "*" when every action on it lacks resource-level permissions', () => {
    const synth = synthRole(
      new iam.PolicyStatement({ actions: ['ec2:DescribeImages', 'xray:PutTraceSegments'], resources: ['*'] }),
    );
    expect(synth).not.toThrow();
  });

  it('fails synthesis for a mutating action on "*"', () => {
    const synth = synthRole(new iam.PolicyStatement({ actions: ['ec2:TerminateInstances'], resources: ['*'] }));
    expect(synth).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
  });

  it('fails synthesis for a wildcard no justification names', () => {
    const synth = synthRole(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::someone-elses-bucket/*'] }),
    );
    expect(synth).toThrow(/AwsSolutions-IAM5\[Resource::arn:aws:s3:::someone-elses-bucket\/\*\]/);
  });

  it('gives every justification a real reason', () => {
    for (const justification of KILN_WILDCARD_JUSTIFICATIONS) expect(justification.reason.length).toBeGreaterThan(30);
  });
});

describe('cdk-nag on the Kiln stack', () => {
  it('fails synthesis when a function gains an unjustified permission', () => {
    const { stack } = createKilnApp({
      appProps: {
        context: { 'aws:cdk:bundling-stacks': [], 'kiln:stateMachinesDir': 'test/fixtures/infra/statemachines' },
      },
      functions: FIXTURE_FUNCTIONS,
      functionsRoot: join(FIXTURE_DIR, 'functions'),
    });
    stack.pipeline.functions
      .get('Finalize')
      ?.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    expect(() => Template.fromStack(stack)).toThrow(
      /Finalize\/Role\/DefaultPolicy[\s\S]*AwsSolutions-IAM5\[Action::s3:\*\]/,
    );
  });
});
