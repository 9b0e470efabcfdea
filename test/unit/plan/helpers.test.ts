import { describe, expect, it } from 'vitest';
import { planSizeProblems } from '../../../core/plan/size.ts';
import type { BuildPlan } from '../../../core/plan/types.ts';
import { parseGoDuration } from '../../../core/values/duration.ts';

describe('parseGoDuration', () => {
  it.each([
    ['10s', 10],
    ['1m30s', 90],
    ['1.5h', 5400],
    ['500ms', 0.5],
    ['0', 0],
    ['-2m', -120],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseGoDuration(text)).toBeCloseTo(seconds);
  });

  it.each(['5', '', 'ten', '1x', '1m 30s'])('rejects %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe('planSizeProblems', () => {
  it('names each build over the limit', () => {
    const build = (name: string, pad: number) => ({
      name,
      builderType: 'null',
      driver: 'agent' as const,
      config: { pad: 'x'.repeat(pad) },
      provisioners: [],
      postProcessors: [],
      summary: {},
      sensitivePaths: [],
    });
    const plan: BuildPlan = {
      version: 1,
      format: 'json',
      templatePath: 't',
      builds: [build('ok', 10), build('big', 3000)],
      files: [],
      warnings: [],
    };
    const problems = planSizeProblems(plan, 2048);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^Build "big" is too large for a Step Functions payload/);
  });
});
