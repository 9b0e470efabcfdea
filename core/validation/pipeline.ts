/**
 * The pipeline's load and plan options, in one place: PrepareBuild and `kiln validate|plan --pipeline` both
 * build theirs here, so the offline check applies exactly the rules an upload meets. Everything the template
 * names must resolve inside `root` (its folder or bundle), relative paths resolve against it, and env() sees
 * an empty environment.
 */
import type { PlanOptions } from '../plan/plan.ts';
import type { LoadOptions } from '../template/model.ts';

export type PipelineInputs = Omit<LoadOptions, 'cwd' | 'env' | 'confinement' | 'readFile'>;

export function pipelineLoadOptions(root: string, inputs: PipelineInputs): LoadOptions {
  return { ...inputs, cwd: root, env: {}, confinement: { root } };
}

export function pipelinePlanOptions(root: string, now?: Date): PlanOptions {
  return { ...(now ? { now } : {}), cwd: root, confinement: { root } };
}
