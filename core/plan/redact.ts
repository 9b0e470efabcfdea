/** redactPlan: the plan as it may be printed or logged, sensitive values replaced by `<sensitive>`. */
import { redactValue } from '../template/sensitive.ts';
import type { BuildPlan } from './types.ts';

export function redactPlan(plan: BuildPlan, sensitiveValues: readonly string[]): BuildPlan {
  return redactValue(plan, sensitiveValues);
}
