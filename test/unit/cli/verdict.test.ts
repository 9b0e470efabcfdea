import { describe, expect, it } from 'vitest';
import { classify, unresolvedSecretVariables } from '../../../cli/verdict.ts';
import { type Diagnostic, error, warning } from '../../../core/template/diagnostics.ts';
import { type LoadResult, type Template, UnknownValue, type VariableInfo } from '../../../core/template/model.ts';

function template(variables: VariableInfo[], format: 'json' | 'hcl' = 'json'): Template {
  return {
    format,
    path: 't',
    dir: '.',
    files: ['t'],
    requiredPlugins: [],
    variables,
    sensitiveValues: [],
    builds: [],
  };
}

const result = (diagnostics: Diagnostic[], t?: Template): LoadResult => ({
  diagnostics,
  sources: new Map(),
  ...(t ? { template: t } : {}),
});

describe('classify', () => {
  it('is valid without errors, warnings notwithstanding', () => {
    expect(classify(result([warning('Deprecated option')], template([])))).toBe('valid');
  });

  it('is invalid with any ordinary error, including unknown made-up builder types', () => {
    expect(classify(result([error('required variable not set: aws_region')]))).toBe('invalid');
    expect(
      classify(
        result([
          error('The builder potatoes is unknown by Packer, and is likely part of a plugin that is not installed.'),
        ]),
      ),
    ).toBe('invalid');
  });

  it('names a missing third-party plugin as unsupported when it is the only problem', () => {
    const d = error('The provisioner goss needs the third-party plugin github.com/YaleUniversity/goss');
    expect(classify(result([d], template([])))).toBe('unsupported-plugin');
  });

  it('is invalid when errors remain besides a missing plugin', () => {
    const d = error('The builder parallels-iso needs the third-party plugin github.com/Parallels/parallels');
    expect(classify(result([d, error("Deprecated configuration key: 'iso_checksum_type'")]))).toBe('invalid');
  });

  it('reports credential-only failures as needing credentials', () => {
    expect(classify(result([error('aws_secretsmanager needs AWS credentials to resolve sample/app/password')]))).toBe(
      'needs-credentials',
    );
  });

  it('flags JSON variables left unresolved because they come from a secret store', () => {
    const t = template([
      { name: 'password', sensitive: false, required: false, value: new UnknownValue('aws_secretsmanager sample/app') },
      { name: 'raw', sensitive: false, required: false, value: '{{ aws_secretsmanager `x` }}' },
      { name: 'plain', sensitive: false, required: false, value: 'hello' },
    ]);
    expect(unresolvedSecretVariables(result([], t))).toEqual(['password', 'raw']);
    expect(classify(result([], t))).toBe('needs-credentials');
  });

  it('does not treat HCL data sources as credential needs: validate does not execute them', () => {
    const t = template(
      [{ name: 'x', sensitive: false, required: false, value: new UnknownValue('data.amazon-secretsmanager.x.value') }],
      'hcl',
    );
    expect(classify(result([], t))).toBe('valid');
  });
});
