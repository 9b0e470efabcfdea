/**
 * The contract between RunProvisioner (the caller, which reads the scripts and knows the secrets) and the
 * isolated ShellLocal function (which runs them): request, result and limits, owned here so neither side
 * reaches into the other.
 */
import * as z from 'zod/mini';

export const SHELL_LOCAL_MAX_SECONDS = 300;
export const SHELL_LOCAL_MAX_OUTPUT_BYTES = 256 * 1024;
/** What goes back to the caller: the end of the output, enough for an error message. */
export const SHELL_LOCAL_RETURNED_CHARS = 16 * 1024;

// zod/mini, as every handler's event schema: full zod would make this bundle half a megabyte (DESIGN.md).
export const shellLocalRequestSchema = z.object({
  buildName: z.string(),
  builderType: z.string(),
  command: z.optional(z.string()),
  inline: z._default(z.array(z.string()), []),
  /** Script bodies of `script`/`scripts`, already read from the staged files by the caller. */
  scriptBodies: z._default(z.array(z.string()), []),
  inlineShebang: z.optional(z.string()),
  environmentVars: z._default(z.array(z.string()), []),
  validExitCodes: z._default(z.array(z.int()), [0]),
  timeoutSeconds: z.optional(z.number().check(z.positive())),
});
export type ShellLocalRequest = z.input<typeof shellLocalRequestSchema>;

export interface ShellLocalResult {
  /** The first exit code outside valid_exit_codes, or 0. */
  readonly exitCode: number;
  readonly ok: boolean;
  readonly timedOut: boolean;
  /** The last SHELL_LOCAL_RETURNED_CHARS characters of stdout+stderr (not redacted: the caller knows the secrets). */
  readonly outputTail: string;
  /** Seconds the limit was. */
  readonly limitSeconds: number;
  readonly error?: string;
}
