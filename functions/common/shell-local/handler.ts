/**
 * The isolated ShellLocal function. Its event carries a provisioner's real values (RunProvisioner invokes it
 * directly, so they never enter the execution history), so unlike every other handler it logs nothing of it.
 */
import { shellLocalRequestSchema } from '../../lib/shell-local-contract.ts';
import { parseEvent } from '../../lib/wiring.ts';
import { runShellLocal } from './run-shell-local.ts';

export const handler = async (event: unknown) => runShellLocal(parseEvent(shellLocalRequestSchema, event));
