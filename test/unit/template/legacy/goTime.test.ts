import { describe, expect, it } from 'vitest';
import {
  cleanAmazonImageName,
  cleanGceImageName,
  formatGoTime,
  formatStrftime,
} from '../../../../core/template/legacy/index.ts';

const T = new Date(Date.UTC(2023, 11, 31, 23, 5, 7, 45));

describe('formatGoTime (isotime layouts)', () => {
  it.each([
    ['2006-01-02T15:04:05Z07:00', '2023-12-31T23:05:07Z'],
    ['2006-01-02', '2023-12-31'],
    ['20060102150405', '20231231230507'],
    ['Jan 2, 2006 at 3:04pm (MST)', 'Dec 31, 2023 at 11:05pm (UTC)'],
    ['Monday January _2', 'Sunday December 31'],
    ['06/1/2 03 PM', '23/12/31 11 PM'],
    ['-0700 -07:00 Z0700', '+0000 +00:00 Z'],
    ['002', '365'],
    ['15:04:05.000', '23:05:07.045'],
    ['15:04:05.999', '23:05:07.045'],
    ['text without tokens', 'text without tokens'],
  ])('%s', (layout, want) => {
    expect(formatGoTime(T, layout)).toBe(want);
  });
});

describe('formatStrftime', () => {
  it.each([
    ['%Y-%m-%d %H:%M:%S', '2023-12-31 23:05:07'],
    ['%y%j %a %b %A %B', '23365 Sun Dec Sunday December'],
    ['%I%p %e %F %T %%', '11PM 31 2023-12-31 23:05:07 %'],
    ['%Q stays', '%Q stays'],
  ])('%s', (format, want) => {
    expect(formatStrftime(T, format)).toBe(want);
  });
});

describe('clean_resource_name rules', () => {
  it.each([
    ['packer-{{timestamp}}', 'packer---timestamp--'],
    ["ok (x) [y] a.b/c-d'e@f_g", "ok (x) [y] a.b/c-d'e@f_g"],
    ['é', '--'],
  ])('amazon %s', (input, want) => {
    expect(cleanAmazonImageName(input)).toBe(want);
  });
  it.each([
    ['valid-name-1', 'valid-name-1'],
    ['Ubuntu 22.04 LTS', 'ubuntu-22-04-lts'],
    ['x'.repeat(70), 'x'.repeat(63)],
  ])('google %s', (input, want) => {
    expect(cleanGceImageName(input)).toBe(want);
  });
});
