/**
 * Sensitive values (the variables document's `redact`) never leave the agent in a log line: each occurrence
 * becomes `<sensitive>`, as Packer itself prints them. Longest first, so a value containing another is replaced
 * whole. Lines are then cut to the contract's length.
 */
import { LIMITS } from '../aws/agent-gateway-contract.ts';

export const REDACTED = '<sensitive>';

export function redactor(values: readonly string[]): (line: string) => string {
  const secrets = [...new Set(values.filter((v) => v !== ''))].sort((a, b) => b.length - a.length);
  return (line) => {
    let out = line;
    for (const secret of secrets) out = out.replaceAll(secret, REDACTED);
    return out.length > LIMITS.logLineLength ? `${out.slice(0, LIMITS.logLineLength - 1)}…` : out;
  };
}
