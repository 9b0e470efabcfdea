// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ASL placeholders are literal ${Name} text, not JS templates.
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { StateMachineFromFile } from '../../infra/constructs/state-machine-from-file.ts';
import { FIXTURE_DIR } from './helpers.ts';

const ASL = join(FIXTURE_DIR, 'asl/two-functions.asl.json');

function setup() {
  const stack = new Stack(new App(), 'Machines');
  const key = new kms.Key(stack, 'Key');
  const fn = (id: string) =>
    new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
  return { stack, key, alpha: fn('Alpha'), beta: fn('Beta'), gamma: fn('Gamma') };
}

describe('StateMachineFromFile', () => {
  it('fills every placeholder and grants invoke on exactly the substituted functions', () => {
    const { stack, key, alpha, beta } = setup();
    const machine = new StateMachineFromFile(stack, 'Two', {
      file: ASL,
      functions: new Map([
        ['AlphaFunctionArn', alpha],
        ['BetaFunctionArn', beta],
      ]),
      substitutions: { ArtifactsBucketName: 'my-bucket' },
      logsKey: key,
    });
    const template = Template.fromStack(stack);
    const id = (c: { node: { defaultChild?: unknown } }) =>
      stack.resolve(stack.getLogicalId(c.node.defaultChild as lambda.CfnFunction)) as string;
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionSubstitutions: {
        AlphaFunctionArn: { 'Fn::GetAtt': [id(alpha), 'Arn'] },
        BetaFunctionArn: { 'Fn::GetAtt': [id(beta), 'Arn'] },
        ArtifactsBucketName: 'my-bucket',
      },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const invoke = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string; Resource: unknown }>)
      .filter((s) => s.Action === 'lambda:InvokeFunction');
    expect(invoke).toHaveLength(1);
    expect(invoke[0]?.Resource).toEqual([{ 'Fn::GetAtt': [id(alpha), 'Arn'] }, { 'Fn::GetAtt': [id(beta), 'Arn'] }]);
    expect(Object.keys(machine.substitutions).sort()).toEqual([
      'AlphaFunctionArn',
      'ArtifactsBucketName',
      'BetaFunctionArn',
    ]);
  });

  it('refuses a placeholder with no substitution', () => {
    const { stack, key, alpha } = setup();
    expect(
      () =>
        new StateMachineFromFile(stack, 'Missing', {
          file: ASL,
          functions: new Map([['AlphaFunctionArn', alpha]]),
          substitutions: { ArtifactsBucketName: 'b' },
          logsKey: key,
        }),
    ).toThrow(/no substitution for \$\{BetaFunctionArn\}/);
  });

  it('refuses a substitution the file does not use', () => {
    const { stack, key, alpha, beta, gamma } = setup();
    expect(
      () =>
        new StateMachineFromFile(stack, 'Unused', {
          file: ASL,
          functions: new Map([
            ['AlphaFunctionArn', alpha],
            ['BetaFunctionArn', beta],
            ['GammaFunctionArn', gamma],
          ]),
          substitutions: { ArtifactsBucketName: 'b' },
          logsKey: key,
        }),
    ).toThrow(/substitutions not used by two-functions\.asl\.json: GammaFunctionArn/);
  });

  it('refuses a file that is not JSON, naming it', () => {
    const { stack, key } = setup();
    expect(
      () =>
        new StateMachineFromFile(stack, 'Broken', {
          file: join(FIXTURE_DIR, 'asl/not-json.asl.json'),
          functions: new Map(),
          logsKey: key,
        }),
    ).toThrow(/not-json\.asl\.json is not valid JSON/);
  });

  it('deploys the parent composed with its children and grants invoke on the functions of both', () => {
    const { stack, key, alpha, gamma } = setup();
    const machine = new StateMachineFromFile(stack, 'Composed', {
      file: join(FIXTURE_DIR, 'asl/with-child.asl.json'),
      functions: new Map([
        ['AlphaFunctionArn', alpha],
        ['GammaFunctionArn', gamma],
      ]),
      logsKey: key,
    });
    const props = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
    const [resource] = Object.values(props);
    const definition = JSON.parse(resource?.Properties.DefinitionString as string);
    expect(definition).toEqual({
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: '${AlphaFunctionArn}', Next: 'G' },
        G: { Type: 'Task', Resource: '${GammaFunctionArn}', Next: 'Done' },
        Done: { Type: 'Succeed' },
      },
    });
    expect(machine.composed.files.map((f) => f.name)).toEqual(['with-child.asl.json', 'children/gamma.asl.json']);
    expect(Object.keys(machine.substitutions).sort()).toEqual(['AlphaFunctionArn', 'GammaFunctionArn']);
  });

  it('names the child file a placeholder without substitution is in', () => {
    const { stack, key, alpha } = setup();
    expect(
      () =>
        new StateMachineFromFile(stack, 'ChildMissing', {
          file: join(FIXTURE_DIR, 'asl/with-child.asl.json'),
          functions: new Map([['AlphaFunctionArn', alpha]]),
          logsKey: key,
        }),
    ).toThrow(/no substitution for \$\{GammaFunctionArn\} \(in children\/gamma\.asl\.json\)/);
  });

  it('passes only the optional substitutions the composed definition uses', () => {
    const { stack, key, alpha, beta } = setup();
    const machine = new StateMachineFromFile(stack, 'Optional', {
      file: ASL,
      functions: new Map([
        ['AlphaFunctionArn', alpha],
        ['BetaFunctionArn', beta],
      ]),
      optionalSubstitutions: { ArtifactsBucketName: 'b', TemplateBucketName: 't' },
      logsKey: key,
    });
    expect(machine.substitutions).toMatchObject({ ArtifactsBucketName: 'b' });
    expect(machine.substitutions).not.toHaveProperty('TemplateBucketName');
  });

  it('refuses a composition the contract does not allow, naming the include and the parent file', () => {
    const { stack, key, alpha } = setup();
    expect(
      () =>
        new StateMachineFromFile(stack, 'BadInclude', {
          file: join(FIXTURE_DIR, 'asl/bad-include.asl.json'),
          functions: new Map([['AlphaFunctionArn', alpha]]),
          logsKey: key,
        }),
    ).toThrow(
      /StateMachineFromFile: bad-include\.asl\.json: include state Child: children\/missing\.asl\.json does not exist \(.*bad-include\.asl\.json\)/,
    );
  });
});
