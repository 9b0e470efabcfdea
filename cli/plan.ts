/**
 * `kiln plan`: what each build will create, as a table for people or as the (redacted) BuildPlan JSON
 * that PrepareBuild stores.
 */

import { isAbsolute, relative, resolve, sep } from 'node:path';
import { contextFilesIn, MAX_CONTEXT_FILES } from '../core/docker/context-files.ts';
import { KilnError } from '../core/errors.ts';
import { planTemplate, redactPlan } from '../core/plan/plan.ts';
import type { BuildPlan } from '../core/plan/types.ts';
import { formatDiagnostic, hasErrors } from '../core/template/diagnostics.ts';
import { pipelinePlanOptions } from '../core/validation/pipeline.ts';
import type { CliIO } from './io.ts';
import { loadForCli, pipelineRoot, type TemplateRequest } from './load-inputs.ts';
import { renderPlanText } from './plan-render.ts';
import { planScripts, writePlanScripts } from './plan-scripts.ts';

export interface PlanOptions extends TemplateRequest {
  readonly json?: boolean;
  /** Directory to write each provisioner's rendered script into (`--scripts DIR`). */
  readonly scripts?: string;
}

/**
 * The build context PrepareBuild would stage for this template: the rule applied to its folder (the --pipeline
 * root, or the folder of the file given), --var-file files inside it left out as the pipeline leaves out the
 * variable files a request names.
 */
function localContextFiles(options: PlanOptions, io: CliIO, root: string | undefined): string[] {
  const folder = root ?? pipelineRoot(io.cwd, options.path);
  const leaveOut = (options.varFiles ?? [])
    .map((f) => relative(folder, resolve(io.cwd, f)).split(sep).join('/'))
    .filter((r) => r !== '' && !r.startsWith('..') && !isAbsolute(r));
  return contextFilesIn({
    root: folder,
    templatePath: resolve(io.cwd, options.path),
    leaveOut,
    maxFiles: MAX_CONTEXT_FILES,
  });
}

export async function runPlan(options: PlanOptions, io: CliIO): Promise<number> {
  const outcome = await loadForCli(options, io);
  if (outcome.kind === 'failed') {
    io.err(`Error: ${outcome.error.message}\n`);
    return 1;
  }
  const { result } = outcome;
  for (const d of result.diagnostics) {
    io.err(`${formatDiagnostic(d, { sources: result.sources, color: io.color })}\n`);
  }
  if (!result.template || hasErrors(result.diagnostics)) return 1;
  let plan: BuildPlan;
  let written: string[] = [];
  try {
    const now = options.now ?? io.now();
    // --pipeline: plan under the same confinement PrepareBuild uses.
    const planOptions = outcome.root !== undefined ? pipelinePlanOptions(outcome.root, now) : { now };
    plan = redactPlan(planTemplate(result.template, planOptions), result.template.sensitiveValues);
    // Rendered from the redacted plan: script files on disk never hold sensitive values.
    if (options.scripts) {
      const contextFiles = plan.builds.some((b) => b.driver === 'ec2-docker')
        ? localContextFiles(options, io, outcome.root)
        : [];
      written = writePlanScripts(resolve(io.cwd, options.scripts), planScripts(plan, { contextFiles }));
    }
  } catch (error) {
    // A plan that cannot be made (an entry too big for a Step Functions payload) is a user-facing error.
    if (error instanceof KilnError) {
      io.err(`Error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const already = new Set(result.diagnostics.map((d) => d.summary));
  for (const w of plan.warnings.filter((d) => !already.has(d.summary))) {
    io.err(`${formatDiagnostic(w, { sources: result.sources, color: io.color })}\n`);
  }
  io.out(options.json ? `${JSON.stringify(plan, null, 2)}\n` : renderPlanText(plan));
  if (options.scripts) {
    io.err(
      written.length > 0
        ? `Wrote ${written.length} builder script(s):\n${written.map((w) => `  ${w}\n`).join('')}`
        : 'No build sends a script to a builder (only ec2-ami and ec2-docker builds do).\n',
    );
  }
  return 0;
}
