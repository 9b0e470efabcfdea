import { describe, expect, it } from 'vitest';
import { escapeMachineField, machineLine, parseMachineLine } from '../../../cli/machine-readable.ts';

describe('machine-readable output', () => {
  it('escapes commas and newlines the way Packer does', () => {
    expect(escapeMachineField('a,b\nc\rd')).toBe('a%!(PACKER_COMMA)b\\nc\\rd');
  });

  it('writes timestamp,target,type,data... in seconds since the epoch', () => {
    const line = machineLine(new Date(1_700_000_000_500), '', 'template-variable', 'a', 'x,y', '0');
    expect(line).toBe('1700000000,,template-variable,a,x%!(PACKER_COMMA)y,0\n');
  });

  it('round-trips through the parser', () => {
    const line = machineLine(new Date(0), 'build', 'ui', 'say', 'one, two\nthree');
    expect(line.split('\n')).toHaveLength(2);
    expect(parseMachineLine(line)).toEqual(['0', 'build', 'ui', 'say', 'one, two\nthree']);
  });
});
