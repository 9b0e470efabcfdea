// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ASL placeholders are literal ${Name} text, not JS templates.
import { describe, expect, it } from 'vitest';
import { compareSubstitutions, describeMismatch, placeholdersIn } from '../../infra/asl-placeholders.ts';

describe('placeholdersIn', () => {
  it.each([
    ['{"Resource":"${AFunctionArn}"}', ['AFunctionArn']],
    ['{"a":"${B}","b":"${A}","c":"${B}"}', ['A', 'B']],
    // JSONPath context paths and intrinsic functions are not placeholders.
    ['{"Id.$":"$$.Execution.Id","X.$":"States.Format(\'{}\', $.a)"}', []],
    ['{"a":"${not valid}","b":"${!Literal}"}', []],
  ])('%s → %j', (definition, expected) => {
    expect(placeholdersIn(definition)).toEqual(expected);
  });
});

describe('compareSubstitutions', () => {
  it('reports placeholders without values and values without placeholders', () => {
    expect(compareSubstitutions('{"a":"${A}","b":"${B}"}', ['B', 'C'])).toEqual({ missing: ['A'], unused: ['C'] });
  });
  it('agrees when both sides match', () => {
    expect(compareSubstitutions('{"a":"${A}"}', ['A'])).toEqual({ missing: [], unused: [] });
  });
});

describe('describeMismatch', () => {
  const files = [
    { name: 'build.asl.json', text: '{"a":"${A}","i":"drivers/x.asl.json"}' },
    { name: 'drivers/x.asl.json', text: '{"b":"${B}","a":"${A}"}' },
  ];
  it('names every file a missing placeholder is in, and the parent for unused substitutions', () => {
    expect(describeMismatch({ missing: ['A', 'B'], unused: ['C'] }, files)).toBe(
      'no substitution for ${A} (in build.asl.json, drivers/x.asl.json), ${B} (in drivers/x.asl.json); ' +
        'substitutions not used by build.asl.json or the files it includes: C',
    );
  });
  it('is empty when both sides agree', () => {
    expect(describeMismatch({ missing: [], unused: [] }, files)).toBe('');
  });
});
