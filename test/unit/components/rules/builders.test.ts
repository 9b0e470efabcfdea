/** Rules of the agent-driver builders (core/builders/rules/, rules/hypervisor/), one table per rule. */
import { describe, expect, it } from 'vitest';
import { builderSpec } from '../../../../core/builders/registry.ts';
import { GuestAdditionsAttach } from '../../../../core/builders/rules/hypervisor/GuestAdditionsAttach.ts';
import { OvfSourcePath } from '../../../../core/builders/rules/hypervisor/OvfSourcePath.ts';
import { VmxSourcePath } from '../../../../core/builders/rules/hypervisor/VmxSourcePath.ts';
import { NullHost } from '../../../../core/builders/rules/NullHost.ts';
import { ctx, describeRules } from './table.ts';

describeRules('builder', {
  NullHost: {
    rule: NullHost,
    compliant: [{ ssh_host: '10.0.0.5' }, { communicator: 'winrm', winrm_host: 'win' }, { communicator: 'none' }],
    nonCompliant: [
      [
        {},
        [
          {
            message: 'a Host must be specified, please reference your communicator documentation',
            key: 'communicator',
          },
        ],
      ],
      [
        { communicator: 'winrm', ssh_host: '10.0.0.5' },
        [
          {
            message: 'a Host must be specified, please reference your communicator documentation',
            key: 'communicator',
          },
        ],
      ],
    ],
  },
  VmxSourcePath: {
    rule: VmxSourcePath,
    compliant: [{ source_path: 'files/app.conf' }, { source_path: 'https://example.com/vm.vmx' }],
    nonCompliant: [
      [{}, [{ message: 'source_path is blank, but is required' }]],
      [
        { source_path: 'vm/base.vmx' },
        [{ message: 'source_path is invalid: stat vm/base.vmx: no such file or directory', key: 'source_path' }],
      ],
    ],
  },
  OvfSourcePath: {
    rule: OvfSourcePath,
    compliant: [{ source_path: 'base.ova' }],
    nonCompliant: [[{}, [{ message: 'source_path is required' }]]],
  },
  GuestAdditionsAttach: {
    rule: GuestAdditionsAttach,
    compliant: [{ guest_additions_mode: 'attach' }, { guest_additions_mode: 'upload', communicator: 'none' }],
    nonCompliant: [
      [
        { guest_additions_mode: 'attach', communicator: 'none' },
        [{ message: 'guest_additions_mode "attach" needs a communicator', key: 'guest_additions_mode' }],
      ],
    ],
  },
});

describe('agent-driver builder rules as the builders run them', () => {
  const summaries = (type: string, config: Record<string, unknown>) =>
    builderSpec(type)
      ?.validate(config, undefined, ctx)
      .map((d) => d.summary);

  it('null: the host, then the communicator checks; nothing at all without a communicator', () => {
    expect(summaries('null', {})).toEqual([
      'a Host must be specified, please reference your communicator documentation',
      'An ssh_username must be specified\n  Note: some builders used to default ssh_username to "root".',
    ]);
    expect(summaries('null', { communicator: 'none' })).toEqual([]);
  });

  it('vmware-vmx: the shared VMware checks, then source_path', () => {
    expect(summaries('vmware-vmx', { communicator: 'none' })).toEqual(['source_path is blank, but is required']);
  });

  it('virtualbox-ovf: source_path first, guest additions after the shared VirtualBox checks', () => {
    expect(summaries('virtualbox-ovf', { communicator: 'none', guest_additions_mode: 'attach' })).toEqual([
      'source_path is required',
      'guest_additions_mode "attach" needs a communicator',
    ]);
  });
});
