/**
 * The script-running components' shared rules (core/schema/rules/: shell, powershell, shell-local provisioner and
 * post-processor), one table per rule, and the lists each component runs.
 */
import { describe, expect, it } from 'vitest';
import { POST_PROCESSORS } from '../../../../core/postprocessors/registry.ts';
import { PROVISIONERS } from '../../../../core/provisioners/registry.ts';
import { EnvironmentVars } from '../../../../core/schema/rules/EnvironmentVars.ts';
import { NoNulBytes } from '../../../../core/schema/rules/NoNulBytes.ts';
import { RemoteScriptSource } from '../../../../core/schema/rules/RemoteScriptSource.ts';
import { ScriptsExist } from '../../../../core/schema/rules/ScriptsExist.ts';
import { ShellLocalSource } from '../../../../core/schema/rules/ShellLocalSource.ts';
import { ValidExitCodes } from '../../../../core/schema/rules/ValidExitCodes.ts';
import { ctx, describeRules } from './table.ts';

describeRules('script', {
  RemoteScriptSource: {
    rule: RemoteScriptSource,
    compliant: [{ inline: ['echo hi'] }, { script: 'a.sh' }, { scripts: ['a.sh', 'b.sh'] }, { inline: [] }],
    nonCompliant: [
      [{}, [{ message: 'Either a script file or inline script must be specified.' }]],
      [
        { script: 'a.sh', scripts: ['b.sh'] },
        [{ message: 'Only one of script or scripts can be specified.', key: 'scripts' }],
      ],
      [
        { script: 'a.sh', inline: ['echo hi'] },
        [{ message: 'Only a script file or an inline script can be specified, not both.', key: 'inline' }],
      ],
    ],
  },
  ShellLocalSource: {
    rule: ShellLocalSource,
    compliant: [{ command: 'make' }, { inline: ['make'] }, { script: 'a.sh' }, { scripts: ['a.sh'] }],
    nonCompliant: [
      [{}, [{ message: 'Command, Inline, Script and Scripts options cannot all be empty.' }]],
      [
        { command: 'make', inline: ['make'] },
        [
          {
            message: 'Only one of command, inline, script or scripts can be specified.',
            detail: 'Got: command, inline.',
            key: 'inline',
          },
        ],
      ],
    ],
  },
  ScriptsExist: {
    rule: ScriptsExist,
    compliant: [{}, { script: 'user-data.sh' }, { scripts: ['files/app.conf', '/tpl/user-data.sh'] }],
    nonCompliant: [
      [
        { script: 'setup.sh' },
        [
          {
            message: "Bad script 'setup.sh': stat setup.sh: no such file or directory",
            detail: 'Kiln looked for /tpl/setup.sh.',
            key: 'script',
          },
        ],
      ],
      [
        { scripts: ['user-data.sh', 'gone.sh'] },
        [
          {
            message: "Bad script 'gone.sh': stat gone.sh: no such file or directory",
            detail: 'Kiln looked for /tpl/gone.sh.',
            key: 'scripts',
          },
        ],
      ],
    ],
  },
  EnvironmentVars: {
    rule: EnvironmentVars,
    compliant: [{ environment_vars: ['A=1', 'B_2=x=y'] }, { env: { HOME_DIR: '/srv' } }],
    nonCompliant: [
      [
        { environment_vars: ['=1'] },
        [{ message: "Environment variable not in format 'key=value': =1", key: 'environment_vars' }],
      ],
      [
        { environment_vars: ['1A=x'] },
        [
          {
            message:
              '"1A" is not a valid environment variable name: use letters, digits and _ only, not starting with a digit',
            key: 'environment_vars',
          },
        ],
      ],
      [
        { env: { 'A-B': 'x' } },
        [
          {
            message:
              '"A-B" is not a valid environment variable name: use letters, digits and _ only, not starting with a digit',
            key: 'env',
          },
        ],
      ],
    ],
  },
  ValidExitCodes: {
    rule: ValidExitCodes,
    compliant: [{}, { valid_exit_codes: ['0', '2300218', '-1'] }],
    nonCompliant: [
      [
        { valid_exit_codes: ['0', '1; rm -rf /'] },
        [{ message: 'valid_exit_codes: "1; rm -rf /" is not a whole number', key: 'valid_exit_codes' }],
      ],
    ],
  },
  NoNulBytes: {
    rule: NoNulBytes,
    compliant: [{ inline: ['echo hi'], env: { A: 'b' } }],
    nonCompliant: [
      [
        { inline: ['echo', 'a\0b'], env: { 'K\0': 'v' } },
        [
          {
            message: 'inline contains a NUL byte, which a shell cannot carry',
            detail: 'Remove the NUL (\\u0000) character from the value.',
            key: 'inline',
          },
          {
            message: 'env contains a NUL byte, which a shell cannot carry',
            detail: 'Remove the NUL (\\u0000) character from the value.',
            key: 'env',
          },
        ],
      ],
    ],
  },
});

describe('script rules as the components run them', () => {
  const bad = { script: 'gone.sh', inline: ['x'], environment_vars: ['=1'], valid_exit_codes: ['x'] };
  const summaries = (
    spec: { validate: (c: Record<string, unknown>, r: undefined, x: typeof ctx) => { summary: string }[] } | undefined,
  ) => spec?.validate(bad, undefined, ctx).map((d) => d.summary);
  const remote = [
    'Only a script file or an inline script can be specified, not both.',
    "Bad script 'gone.sh': stat gone.sh: no such file or directory",
    "Environment variable not in format 'key=value': =1",
    'valid_exit_codes: "x" is not a whole number',
  ];
  const local = [
    'Only one of command, inline, script or scripts can be specified.',
    "Bad script 'gone.sh': stat gone.sh: no such file or directory",
    "Environment variable not in format 'key=value': =1",
    'valid_exit_codes: "x" is not a whole number',
  ];

  it.each([
    ['shell provisioner', PROVISIONERS.get('shell'), remote],
    ['powershell provisioner', PROVISIONERS.get('powershell'), remote],
    ['shell-local provisioner', PROVISIONERS.get('shell-local'), local],
    ['shell-local post-processor', POST_PROCESSORS.get('shell-local'), local],
  ])('%s', (_name, spec, expected) => {
    expect(summaries(spec)).toEqual(expected);
  });
});
