/** `kiln inspect`: loads the template and prints it with inspect-render.ts. */
import { formatDiagnostic } from '../core/template/diagnostics.ts';
import { inspectEvents, renderInspectMachine, renderInspectText } from './inspect-render.ts';
import type { CliIO } from './io.ts';
import { loadForCli, type TemplateRequest } from './load-inputs.ts';

export interface InspectOptions extends TemplateRequest {
  readonly machineReadable?: boolean;
}

export async function runInspect(options: InspectOptions, io: CliIO): Promise<number> {
  const outcome = await loadForCli(options, io);
  if (outcome.kind === 'failed') {
    io.err(`Error: ${outcome.error.message}\n`);
    return 1;
  }
  const { result } = outcome;
  // Like `packer inspect`, show what the template declares even if validation found problems; those go to
  // stderr. Without a model (a syntax error) there is nothing to show.
  for (const d of result.diagnostics) {
    io.err(`${formatDiagnostic(d, { sources: result.sources, color: io.color && !options.machineReadable })}\n`);
  }
  if (!result.template) return 1;
  const events = inspectEvents(result.template);
  io.out(options.machineReadable ? renderInspectMachine(events, io.now()) : renderInspectText(events));
  return 0;
}
