/**
 * Typed reads from a planned build's configuration: a boolean is read by the one rule the validator and the plan
 * use (Go's ParseBool under mapstructure's weak decoding, core/schema/decode.ts); anything else is
 * absent, never JavaScript truthiness.
 */
import { describe, expect, it } from 'vitest';
import { buildCreateImageRequest } from '../../../functions/ec2-ami/create-image/image-request.ts';
import { bool, num, str } from '../../../functions/lib/config.ts';

const TAGS = { buildId: 'b-1', executionName: 'e-1', template: 't.pkr.hcl', index: 0, name: 'amazon-ebs.web' };

describe('bool', () => {
  it.each([
    [true, true],
    [false, false],
    ['true', true],
    ['false', false],
    ['', false],
    ['0', false],
    ['1', true],
    ['TRUE', true],
    ['t', true],
    ['F', false],
    ['yes', undefined],
    ['on', undefined],
    ['tRUE', undefined],
    [' true', undefined],
    [0, false],
    [1, true],
    [null, undefined],
    [{}, undefined],
    [['true'], undefined],
  ])('reads %j as %j', (value, expected) => {
    expect(bool({ flag: value }, 'flag')).toBe(expected);
  });

  it('reads a missing key as absent', () => {
    expect(bool({}, 'flag')).toBeUndefined();
  });

  it.each([
    ['false', true],
    [false, true],
    ['true', false],
    [true, false],
  ])('disable_stop_instance = %j gives NoReboot %j (the string "false" is false)', (value, noReboot) => {
    expect(buildCreateImageRequest({ disable_stop_instance: value }, 'i-0123456789abcdef0', TAGS).NoReboot).toBe(
      noReboot,
    );
  });
});

describe('str and num', () => {
  it.each([
    ['x', 'x'],
    ['', undefined],
    [3, '3'],
    [true, undefined],
    [null, undefined],
  ])('str reads %j as %j', (value, expected) => {
    expect(str({ k: value }, 'k')).toBe(expected);
  });

  it.each([
    [3, 3],
    ['3', 3],
    [' ', undefined],
    ['3x', undefined],
    [Number.NaN, undefined],
    [Number.POSITIVE_INFINITY, undefined],
    [true, undefined],
  ])('num reads %j as %j', (value, expected) => {
    expect(num({ k: value }, 'k')).toBe(expected);
  });
});
