/**
 * validateTemplate: runs every rule over the normalized template and returns all diagnostics, errors and
 * warnings, deduplicated (a JSON provisioner applies to every build, and should be reported once).
 */
import { existsSync } from 'node:fs';
import type { Confinement } from '../files/access.ts';
import type { DeploymentAllowances } from '../template/deployment.ts';
import type { Diagnostic } from '../template/diagnostics.ts';
import type { Template } from '../template/model.ts';
import { TEMPLATE_RULES } from './rules/index.ts';
import type { RuleContext, TemplateRule } from './rules/types.ts';

export interface ValidateOptions {
  /** Defaults to node:fs `existsSync`. */
  readonly fileExists?: (path: string) => boolean;
  /** Working directory (LoadOptions.cwd): relative script and file paths are tried there, then in the template dir. */
  readonly cwd?: string;
  /** The pipeline's rule: files named by the template must be inside this root. */
  readonly confinement?: Confinement;
  /** The deployment's allowances (PrepareBuild). */
  readonly deployment?: DeploymentAllowances;
  /** Rules to run; defaults to all of them. */
  readonly rules?: readonly TemplateRule[];
}

function key(d: Diagnostic): string {
  const r = d.range;
  return [d.severity, d.summary, d.detail ?? '', r ? `${r.file}:${r.start.line}:${r.start.column}` : ''].join('\u0000');
}

export function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const k = key(d);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function validateTemplate(template: Template, options: ValidateOptions = {}): Diagnostic[] {
  const ctx: RuleContext = {
    fileExists: options.fileExists ?? existsSync,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.confinement ? { confinement: options.confinement } : {}),
    ...(options.deployment ? { deployment: options.deployment } : {}),
  };
  return dedupe((options.rules ?? TEMPLATE_RULES).flatMap((rule) => rule(template, ctx)));
}
