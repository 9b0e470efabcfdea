/**
 * `kiln plan`: what each build will create, as a table for people or as the (redacted) BuildPlan JSON
 * that PrepareBuild stores.
 */

import { resolve } from 'node:path';
import { KilnError } from '../core/errors.ts';
import { planTemplate, redactPlan } from '../core/plan/plan.ts';
import type { BuildPlan } from '../core/plan/types.ts';
import { formatDiagnostic, hasErrors } from '../core/template/diagnostics.ts';
import { pipelinePlanOptions } from '../core/validation/pipeline.ts';
import type { CliIO } from './io.ts';
import { loadForCli, type TemplateRequest } from './load-inputs.ts';
import { renderPlanText } from './plan-render.ts';
import { planScripts, writePlanScripts } from './plan-scripts.ts';

export interface PlanOptions extends TemplateRequest {
  readonly json?: boolean;
  /** Directory to write each provisioner's rendered script into (`--scripts DIR`). */
  readonly scripts?: string;
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
    if (options.scripts) written = writePlanScripts(resolve(io.cwd, options.scripts), planScripts(plan));
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
        ? `Wrote ${written.length} provisioner script(s):\n${written.map((w) => `  ${w}\n`).join('')}`
        : 'No provisioner sends a script to the builder (only ec2-ami builds do).\n',
    );
  }
  return 0;
}
