import { describe, expect, it } from 'vitest';
import { normalizeArgv, parseVarAssignment, splitNameList } from '../../../cli/argv.ts';

describe('normalizeArgv', () => {
  it.each([
    [
      ['validate', '-syntax-only', 'x.json'],
      ['validate', '--syntax-only', 'x.json'],
    ],
    [
      ['validate', '-var', 'a=1', 'x.json'],
      ['validate', '--var', 'a=1', 'x.json'],
    ],
    [
      ['validate', '-var=a=1', 'x.json'],
      ['validate', '--var=a=1', 'x.json'],
    ],
    [
      ['validate', '-var-file=v.json', '-only=a,b', 't'],
      ['validate', '--var-file=v.json', '--only=a,b', 't'],
    ],
    [
      ['validate', '--var', 'a=1', '--machine-readable', 't'],
      ['validate', '--var', 'a=1', '--machine-readable', 't'],
    ],
    [
      ['inspect', '-machine-readable', 't'],
      ['inspect', '--machine-readable', 't'],
    ],
  ])('rewrites Packer single-dash flags %j', (input, expected) => {
    expect(normalizeArgv(input)).toEqual(expected);
  });

  it('leaves the value after a value-taking flag alone even when it starts with a dash', () => {
    expect(normalizeArgv(['validate', '-only', '-weird', '-var', 'x=-1', 't'])).toEqual([
      'validate',
      '--only',
      '-weird',
      '--var',
      'x=-1',
      't',
    ]);
  });

  it('keeps short options and everything after --', () => {
    expect(normalizeArgv(['-h'])).toEqual(['-h']);
    expect(normalizeArgv(['validate', '--', '-not-a-flag'])).toEqual(['validate', '--', '-not-a-flag']);
  });
});

describe('parseVarAssignment', () => {
  it('splits on the first "=" only', () => {
    expect(parseVarAssignment('token=a=b==')).toEqual(['token', 'a=b==']);
    expect(parseVarAssignment('empty=')).toEqual(['empty', '']);
  });
  it('rejects assignments without a name or without "="', () => {
    expect(parseVarAssignment('novalue')).toBeUndefined();
    expect(parseVarAssignment('=x')).toBeUndefined();
  });
});

describe('splitNameList', () => {
  it('splits comma lists and concatenates repeated flags', () => {
    expect(splitNameList(['file.vanilla,pear', ' apple ', ''])).toEqual(['file.vanilla', 'pear', 'apple']);
  });
});
