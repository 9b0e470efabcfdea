/**
 * The template engine as PrepareBuild sees it: load (parse + validate) and plan, the same core code the CLI
 * runs, so `kiln validate` on a laptop and the pipeline agree. An interface so unit tests can substitute it.
 */
import { planTemplate } from '../../../core/plan/plan.ts';
import type { BuildPlan } from '../../../core/plan/types.ts';
import type { LoadOptions, LoadResult, Template } from '../../../core/template/model.ts';
import { loadTemplate } from '../../../core/validation/load.ts';
import { pipelinePlanOptions } from '../../../core/validation/pipeline.ts';

export interface PlanInputs {
  readonly now?: Date;
  /** The template's root: scripts and uploads must resolve inside it (the pipeline's confinement). */
  readonly root: string;
}

export interface TemplateEngine {
  readonly load: (path: string, opts: LoadOptions) => Promise<LoadResult>;
  readonly plan: (template: Template, opts: PlanInputs) => BuildPlan | Promise<BuildPlan>;
}

export const coreEngine: TemplateEngine = {
  load: (path, opts) => loadTemplate(path, opts),
  plan: (template, opts) => planTemplate(template, pipelinePlanOptions(opts.root, opts.now)),
};
