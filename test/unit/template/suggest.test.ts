import { describe, expect, it } from 'vitest';
import { didYouMean, levenshtein, suggest } from '../../../core/template/suggest.ts';

describe('levenshtein', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['builders', 'buildres', 2],
    ['variables', 'variable', 1],
    ['flaw', 'lawn', 2],
  ])('%s vs %s = %i', (a, b, d) => {
    expect(levenshtein(a, b)).toBe(d);
    expect(levenshtein(b, a)).toBe(d);
  });
});

describe('suggest', () => {
  const roots = ['builders', 'provisioners', 'post-processors', 'variables', 'description', 'min_packer_version'];
  it.each([
    ['builder', 'builders'],
    ['provisioner', 'provisioners'],
    ['post-processor', 'post-processors'],
    ['varaibles', 'variables'],
    ['descripton', 'description'],
  ])('%s -> %s', (name, want) => {
    expect(suggest(name, roots)).toBe(want);
  });

  it('returns undefined when nothing is close', () => {
    expect(suggest('foo', roots)).toBeUndefined();
    expect(suggest('x', [])).toBeUndefined();
  });

  it('prefers the closest candidate, first on ties', () => {
    expect(suggest('ab', ['abc', 'abd', 'ab'])).toBe('ab');
    expect(suggest('ab', ['abc', 'abd'])).toBe('abc');
  });

  it('formats a hint', () => {
    expect(didYouMean('builder', roots)).toBe('Did you mean "builders"?');
    expect(didYouMean('zzz', roots)).toBeUndefined();
  });
});
