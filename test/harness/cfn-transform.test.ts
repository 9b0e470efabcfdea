import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type CfnTemplate, inlineSubstitutions, transformForMoto } from '../../harness/cfn-transform.ts';

const fixture = (name: string): CfnTemplate =>
  JSON.parse(readFileSync(new URL(`../fixtures/harness/cdk/${name}`, import.meta.url), 'utf8')) as CfnTemplate;

describe('transformForMoto', () => {
  const { template, report } = transformForMoto(fixture('custom-resource-stack.template.json'));

  it('drops CDK metadata, custom resources and the bootstrap version check, and reports them', () => {
    expect(report.dropped).toEqual({
      Notifications: 'Custom::S3BucketNotifications',
      CDKMetadata: 'AWS::CDK::Metadata',
    });
    expect(Object.keys(template.Resources).sort()).toEqual(['Bucket', 'Fn', 'Machine', 'Queue']);
    expect(template.Parameters).toBeUndefined();
    expect(template.Rules).toBeUndefined();
  });

  it('removes DependsOn entries that name dropped resources and keeps the others', () => {
    expect(template.Resources.Bucket?.DependsOn).toEqual(['Fn']);
    expect(template.Resources.Queue?.DependsOn).toBeUndefined();
  });

  it('inlines DefinitionSubstitutions into the definition as an Fn::Join', () => {
    const props = template.Resources.Machine?.Properties ?? {};
    expect(props.DefinitionSubstitutions).toBeUndefined();
    expect(report.inlined).toEqual({ Machine: ['ArtifactsBucketName', 'PrepareBuildFunctionArn'] });
    const [delimiter, parts] = (props.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    expect(delimiter).toBe('');
    expect(parts).toContainEqual({ 'Fn::GetAtt': ['Fn', 'Arn'] });
    expect(parts).toContainEqual({ Ref: 'Bucket' });
    // With the tokens replaced by stand-ins the text is the original ASL, placeholders without values kept.
    const text = parts.map((p) => (typeof p === 'string' ? p : 'X')).join('');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation/ASL placeholder text, not a JS template
    expect(JSON.parse(text).States.A.Parameters).toEqual({ Bucket: 'X', Other: '${NotSubstituted}' });
  });

  it('does not modify its input', () => {
    const input = fixture('custom-resource-stack.template.json');
    const copy = structuredClone(input);
    transformForMoto(input);
    expect(input).toEqual(copy);
  });

  it('refuses to drop a resource something still references', () => {
    const input = fixture('custom-resource-stack.template.json');
    input.Outputs = { Token: { Value: { 'Fn::GetAtt': ['Notifications', 'Token'] } } };
    expect(() => transformForMoto(input)).toThrow(/still referenced: Notifications/);
  });
});

describe('inlineSubstitutions', () => {
  it('splits the string parts of an existing Fn::Join too', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation/ASL placeholder text, not a JS template
    const joined = { 'Fn::Join': ['', ['{"a":"${A}","r":"', { Ref: 'AWS::Region' }, '"}']] };
    expect(inlineSubstitutions(joined, { A: { Ref: 'Thing' } })).toEqual({
      'Fn::Join': ['', ['{"a":"', { Ref: 'Thing' }, '","r":"', { Ref: 'AWS::Region' }, '"}']],
    });
  });
});
