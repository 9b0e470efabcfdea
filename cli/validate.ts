/**
 * `kiln validate`: Packer's exit codes (0 valid, 1 invalid) and Packer-style diagnostics with the source
 * line and a caret, warnings included.
 */
import { formatDiagnostic, hasErrors } from '../core/template/diagnostics.ts';
import type { LoadResult } from '../core/template/model.ts';
import type { CliIO } from './io.ts';
import { type LoadContext, loadForCli, type TemplateRequest } from './load-inputs.ts';
import { machineLine } from './machine-readable.ts';
import { classify, isCredentialDiagnostic, unresolvedSecretVariables, type Verdict } from './verdict.ts';

export const VALID_MESSAGE = 'The configuration is valid.';

export interface CheckOutcome {
  readonly verdict: Verdict;
  readonly exitCode: 0 | 1;
  /** Absent when the loader raised a typed error instead of returning diagnostics. */
  readonly result?: LoadResult;
  /** Message of the typed error, when there is one. */
  readonly failure?: string;
  /** JSON variables that need a secret store (resolved at build time by the pipeline). */
  readonly secretVariables: readonly string[];
}

/** The decision behind `kiln validate`, without any printing: also what the conformance suite calls. */
export async function checkTemplate(request: TemplateRequest, context: LoadContext): Promise<CheckOutcome> {
  const outcome = await loadForCli(request, context);
  if (outcome.kind === 'failed') {
    return {
      verdict: 'invalid',
      exitCode: 1,
      failure: `${outcome.error.name}: ${outcome.error.message}`,
      secretVariables: [],
    };
  }
  const { result } = outcome;
  return {
    verdict: classify(result),
    exitCode: hasErrors(result.diagnostics) ? 1 : 0,
    result,
    secretVariables: unresolvedSecretVariables(result),
  };
}

export interface ValidateOptions extends TemplateRequest {
  readonly machineReadable?: boolean;
}

export async function runValidate(options: ValidateOptions, io: CliIO): Promise<number> {
  const outcome = await checkTemplate(options, io);
  const now = io.now();
  const emit = (kind: 'say' | 'error', message: string) => {
    if (options.machineReadable) io.out(machineLine(now, '', 'ui', kind, message));
    else if (kind === 'error') io.err(`${message}\n`);
    else io.out(`${message}\n`);
  };

  if (outcome.failure !== undefined) {
    emit('error', `Error: ${outcome.failure}`);
    return outcome.exitCode;
  }
  const result = outcome.result as LoadResult;
  const color = io.color && !options.machineReadable;
  for (const d of result.diagnostics) {
    const printed = formatDiagnostic(d, { sources: result.sources, color });
    // As Packer's validate: errors go through ui.Error (stderr), warnings through ui.Say (stdout).
    const kind = d.severity === 'error' ? 'error' : 'say';
    if (options.machineReadable) io.out(machineLine(now, '', 'ui', kind, printed));
    else if (kind === 'error') io.err(`${printed}\n`);
    else io.out(`${printed}\n`);
  }
  // The loader may already have said so in a warning; say it once.
  const alreadySaid = result.diagnostics.some(isCredentialDiagnostic);
  if (outcome.secretVariables.length > 0 && outcome.exitCode === 0 && !alreadySaid) {
    emit(
      'say',
      `Note: needs credentials: ${outcome.secretVariables.map((v) => `variable "${v}"`).join(', ')} ` +
        'come(s) from a secret store; Kiln resolves them at build time (offline validation left them unresolved).',
    );
  }
  if (outcome.exitCode === 0) emit('say', VALID_MESSAGE);
  return outcome.exitCode;
}
