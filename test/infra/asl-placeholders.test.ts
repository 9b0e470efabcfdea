// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ASL placeholders are literal ${Name} text, not JS templates.
import { describe, expect, it } from 'vitest';
import { compareSubstitutions, placeholdersIn } from '../../infra/asl-placeholders.ts';

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
