/** Provisioner rules (core/provisioners/rules/), one table per rule, and their order in file and powershell. */
import { describe, expect, it } from 'vitest';
import { PROVISIONERS } from '../../../../core/provisioners/registry.ts';
import { ElevatedPassword } from '../../../../core/provisioners/rules/ElevatedPassword.ts';
import { FileDestination } from '../../../../core/provisioners/rules/FileDestination.ts';
import { FileSource } from '../../../../core/provisioners/rules/FileSource.ts';
import { FileSourcesExist } from '../../../../core/provisioners/rules/FileSourcesExist.ts';
import { ctx, describeRules } from './table.ts';

describeRules('provisioner', {
  FileSourcesExist: {
    rule: FileSourcesExist,
    compliant: [
      { source: 'files/app.conf' },
      { sources: ['files/app.conf'] },
      { source: 'missing.conf', generated: true },
      { source: 'missing.conf', direction: 'download' },
    ],
    nonCompliant: [
      [
        { source: 'missing.conf' },
        [{ message: "Bad source 'missing.conf': stat missing.conf: no such file or directory", key: 'source' }],
      ],
      [
        { sources: ['files/app.conf', 'gone.conf'] },
        [{ message: "Bad source 'gone.conf': stat gone.conf: no such file or directory", key: 'sources' }],
      ],
    ],
  },
  FileSource: {
    rule: FileSource,
    compliant: [{ source: 'a' }, { sources: ['a', 'b'] }, { content: 'hello' }],
    nonCompliant: [
      [{ destination: '/tmp/x' }, [{ message: 'Source must be specified.' }]],
      [{ source: 'a', content: 'hello' }, [{ message: 'Cannot specify both source and content', key: 'content' }]],
    ],
  },
  FileDestination: {
    rule: FileDestination,
    compliant: [{ destination: '/tmp/x' }],
    nonCompliant: [[{ source: 'a' }, [{ message: 'Destination must be specified.' }]]],
  },
  ElevatedPassword: {
    rule: ElevatedPassword,
    compliant: [{}, { elevated_user: 'SYSTEM', elevated_password: '' }],
    nonCompliant: [
      [
        { elevated_user: 'Administrator' },
        [{ message: "Must supply an 'elevated_password' if 'elevated_user' provided", key: 'elevated_user' }],
      ],
    ],
  },
});

describe('provisioner rules as the provisioners run them', () => {
  const summaries = (type: string, config: Record<string, unknown>) =>
    PROVISIONERS.get(type)
      ?.validate(config, undefined, ctx)
      .map((d) => d.summary);

  it('file: sources, then source or content, then destination, then NUL bytes', () => {
    expect(summaries('file', { source: 'missing.conf', content: 'x\0' })).toEqual([
      "Bad source 'missing.conf': stat missing.conf: no such file or directory",
      'Cannot specify both source and content',
      'Destination must be specified.',
      'content contains a NUL byte, which a shell cannot carry',
    ]);
  });

  it('powershell: script checks, then the elevated password', () => {
    expect(summaries('powershell', { elevated_user: 'Administrator' })).toEqual([
      'Either a script file or inline script must be specified.',
      "Must supply an 'elevated_password' if 'elevated_user' provided",
    ]);
  });
});
