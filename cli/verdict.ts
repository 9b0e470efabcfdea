/**
 * Sorts the outcome of a validation into the verdicts Packer users meet: valid, invalid (a template error),
 * needs-credentials (fine as a template, but Packer would call AWS or a secret store while validating) and
 * unsupported-plugin (the template needs a plugin Kiln cannot run). The conformance suite and `kiln
 * validate` share this function, so the suite measures exactly what the CLI reports.
 */
import type { Diagnostic } from '../core/template/diagnostics.ts';
import { isUnknown, type LoadResult } from '../core/template/model.ts';

export type Verdict = 'valid' | 'invalid' | 'needs-credentials' | 'unsupported-plugin';

/**
 * Legacy functions that Packer evaluates while *loading* a JSON template (variables are interpolated during
 * initialization), so `packer validate` needs credentials for them. HCL data sources are different: validate
 * does not execute them, which is why only JSON variables are checked for these.
 */
const SECRET_FUNCTION = /\{\{-?\s*(aws_secretsmanager(?:_raw)?|aws_parameterstore|vault|consul_key)\b/;
const SECRET_SOURCE = /aws_secretsmanager|aws_parameterstore|secretsmanager|parameterstore|vault|consul/i;

const CREDENTIALS_TEXT = /credential|secrets? ?manager.*(resolve|access|call)|no resolver|needs? (aws|access)/i;

/**
 * Wording the component validators use for a plugin Kiln knows exists but does not run: third-party
 * plugins (goss, Parallels). Packer's own message for a made-up type ("is likely part of a plugin that is not
 * installed") is an ordinary template error and must not match.
 */
const UNSUPPORTED_PLUGIN_TEXT =
  /third[- ]party|not maintained by hashicorp|community plugin|plugin[^.]*\b(is not supported|unsupported|not available in kiln|kiln (does not|cannot))/i;

function text(d: Diagnostic): string {
  return `${d.summary}\n${d.detail ?? ''}`;
}

export function isCredentialDiagnostic(d: Diagnostic): boolean {
  return CREDENTIALS_TEXT.test(text(d));
}

export function isUnsupportedPluginDiagnostic(d: Diagnostic): boolean {
  return d.severity === 'error' && UNSUPPORTED_PLUGIN_TEXT.test(text(d));
}

/** JSON variables whose value only a secret store can give (left unresolved by an offline load). */
export function unresolvedSecretVariables(result: LoadResult): string[] {
  const template = result.template;
  if (template?.format !== 'json') return [];
  const names: string[] = [];
  for (const v of template.variables) {
    const value = v.value;
    if (
      isUnknown(value) ? SECRET_SOURCE.test(value.source) : typeof value === 'string' && SECRET_FUNCTION.test(value)
    ) {
      names.push(v.name);
    }
  }
  return names;
}

/**
 * A missing plugin only decides the verdict when it is the only problem: errors that remain whatever plugins
 * are installed make the template invalid (as Packer reports them once the plugin is there).
 */
export function classify(result: LoadResult): Verdict {
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  const others = errors.filter((d) => !isUnsupportedPluginDiagnostic(d));
  if (others.length > 0) return others.every(isCredentialDiagnostic) ? 'needs-credentials' : 'invalid';
  if (errors.length > 0) return 'unsupported-plugin';
  if (unresolvedSecretVariables(result).length > 0) return 'needs-credentials';
  if (result.diagnostics.some(isCredentialDiagnostic)) return 'needs-credentials';
  return 'valid';
}
