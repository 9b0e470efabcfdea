/**
 * Where sensitive values ended up in a planned build (JSON pointers, RFC 6901), and redaction for printing.
 * A value counts when a string equals or contains one of Template.sensitiveValues.
 */
import { isUnknown } from '../template/model.ts';

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function usable(values: readonly string[]): string[] {
  // Empty strings would match everything; longest first so redaction replaces whole secrets.
  return [...new Set(values.filter((v) => v.length > 0))].sort((a, b) => b.length - a.length);
}

export function sensitivePaths(value: unknown, sensitiveValues: readonly string[]): string[] {
  const secrets = usable(sensitiveValues);
  const out: string[] = [];
  if (secrets.length === 0) return out;
  const walk = (v: unknown, pointer: string) => {
    if (typeof v === 'string') {
      if (secrets.some((s) => v.includes(s))) out.push(pointer);
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${pointer}/${i}`);
    } else if (v && typeof v === 'object' && !isUnknown(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, `${pointer}/${escapePointer(k)}`);
    }
  };
  walk(value, '');
  return out;
}

export const REDACTED = '<sensitive>';

/** A deep copy with every occurrence of a sensitive value replaced by `<sensitive>` (Packer's spelling). */
export function redactValue<T>(value: T, sensitiveValues: readonly string[]): T {
  const secrets = usable(sensitiveValues);
  if (secrets.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return secrets.reduce((s, secret) => s.split(secret).join(REDACTED), v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && !isUnknown(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
