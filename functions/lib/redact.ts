/**
 * Redaction of sensitive values (sensitive variables, resolved secrets) from anything that may reach logs,
 * the execution history or error messages. Packer prints `<sensitive>`; so do we.
 */
export const REDACTED = '<sensitive>';

/** Values shorter than this are not redacted: replacing "1" or "a" everywhere would destroy every message. */
const MIN_SECRET_LENGTH = 3;

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  const sorted = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  for (const secret of sorted) out = out.split(secret).join(REDACTED);
  return out;
}

/** Deep-redacts a JSON-like value (strings anywhere inside are redacted). */
export function redactValue<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') return redact(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, secrets)])) as T;
  }
  return value;
}

/** Key names whose values are always hidden in logs, whatever the template says. */
const SENSITIVE_KEY = /password|secret|token|private_key|credential|access_key/i;

export function redactSensitiveKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactSensitiveKeys(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SENSITIVE_KEY.test(k) && typeof v === 'string' ? REDACTED : redactSensitiveKeys(v),
      ]),
    ) as T;
  }
  return value;
}

/**
 * What a handler may log of its event: sensitive-looking keys hidden, and every value of user `vars` hidden
 * (a variable's sensitivity is only known after the template is loaded).
 */
export function redactForLog<T>(event: T): T {
  const hidden = redactSensitiveKeys(event);
  const hideVars = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(hideVars);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [k, k === 'vars' ? mapLeaves(x, () => REDACTED) : hideVars(x)]),
      );
    }
    return v;
  };
  return hideVars(hidden) as T;
}

function mapLeaves(value: unknown, fn: (leaf: unknown) => unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => mapLeaves(v, fn));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapLeaves(v, fn)]));
  return fn(value);
}
