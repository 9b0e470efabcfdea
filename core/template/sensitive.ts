/**
 * The one redaction module of Kiln (CLI, planner and every Lambda use it). A sensitive value (sensitive variable,
 * resolved secret) is hidden in every form a template can derive from it with Packer/HCL functions or that a
 * renderer produces: the raw string, base64 (standard and URL-safe, whole or embedded at any of the three byte
 * alignments), hex (lower and upper case), URL encoding, JSON string escaping (also Go's `\u003c` style and
 * double-escaped) and shell single-quote escaping. Packer prints `<sensitive>`; so do we.
 *
 * Sealing (for plan.json) replaces the same forms with opaque placeholders whose values live in a separate,
 * short-lived object; `unseal` puts them back just before a provisioner script is rendered.
 */
import { isUnknown } from './model.ts';

export const REDACTED = '<sensitive>';

/** Raw values shorter than this are not hidden: replacing "1" or "a" everywhere would destroy every message. */
export const MIN_SECRET_LENGTH = 3;
/** Derived forms (encodings, base64 fragments) shorter than this are not hidden, for the same reason. */
const MIN_FORM_LENGTH = 4;

function base64Fragments(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    // Encode behind k filler bytes, then keep only the characters that depend on the secret's bits alone: the
    // secret embedded anywhere in a longer text encodes to one of these three fragments.
    const whole = Buffer.concat([Buffer.alloc(k), bytes]);
    const encoded = whole.toString('base64');
    const start = Math.ceil((8 * k) / 6);
    const end = Math.floor((8 * whole.length) / 6);
    if (end > start) out.push(encoded.slice(start, end));
    if (k === 0) out.push(encoded, encoded.replace(/=+$/, ''));
  }
  return out;
}

const toUrlSafe = (b64: string): string => b64.replace(/\+/g, '-').replace(/\//g, '_');

const goJsonEscape = (s: string): string =>
  s.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

/** Every string that reveals `value`, longest first (empty when the value is too short to hide). */
export function sensitiveForms(value: string): string[] {
  if (value.length < MIN_SECRET_LENGTH) return [];
  const bytes = Buffer.from(value, 'utf8');
  const hex = bytes.toString('hex');
  const json = JSON.stringify(value).slice(1, -1);
  const b64 = base64Fragments(bytes);
  const derived = [
    ...b64,
    ...b64.map(toUrlSafe),
    hex,
    hex.toUpperCase(),
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%20/g, '+'),
    encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    json,
    goJsonEscape(json),
    JSON.stringify(json).slice(1, -1),
    value.replace(/'/g, `'\\''`),
    value.replace(/"/g, '\\"'),
  ].filter((f) => f.length >= MIN_FORM_LENGTH);
  return [...new Set([value, ...derived])].sort((a, b) => b.length - a.length);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** All forms of all values, deduplicated, longest first. */
export function formsOf(values: readonly string[]): string[] {
  const all = new Set<string>();
  for (const v of values) for (const f of sensitiveForms(v)) all.add(f);
  return [...all].sort((a, b) => b.length - a.length);
}

/**
 * One pass over the text with every form as an alternative (longest first), so a replacement is never matched
 * again by a shorter form inside the text that replaced it.
 */
function replacer(forms: readonly string[]): RegExp | undefined {
  if (forms.length === 0) return undefined;
  return new RegExp(forms.map(escapeRegExp).join('|'), 'g');
}

/** A reusable redactor for a set of sensitive values (the regular expression is built once). */
export function redactorFor(values: readonly string[]): (text: string) => string {
  const re = replacer(formsOf(values));
  return re ? (text) => text.replace(re, REDACTED) : (text) => text;
}

export function redactText(text: string, values: readonly string[]): string {
  return redactorFor(values)(text);
}

/** Deep copy of a JSON-like value with every string (and object key) redacted. */
export function redactValue<T>(value: T, values: readonly string[]): T {
  const r = redactorFor(values);
  if (formsOf(values).length === 0) return value;
  return mapStrings(value, r) as T;
}

function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value && typeof value === 'object' && !isUnknown(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [fn(k), mapStrings(v, fn)]));
  }
  return value;
}

/** True when the text contains any form of any value. */
export function revealsAny(text: string, values: readonly string[]): boolean {
  const re = replacer(formsOf(values));
  return re ? new RegExp(re.source).test(text) : false;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Where sensitive values (in any form) ended up in a value: JSON pointers (RFC 6901). */
export function sensitivePaths(value: unknown, sensitiveValues: readonly string[]): string[] {
  const re = replacer(formsOf(sensitiveValues));
  const out: string[] = [];
  if (!re) return out;
  const test = new RegExp(re.source);
  const walk = (v: unknown, pointer: string) => {
    if (typeof v === 'string') {
      if (test.test(v)) out.push(pointer);
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${pointer}/${i}`);
    } else if (v && typeof v === 'object' && !isUnknown(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, `${pointer}/${escapePointer(k)}`);
    }
  };
  walk(value, '');
  return out;
}

// ---- sealing: placeholders in plan.json, values in a separate object ----

/** What the sealed-values object holds: the forms, by placeholder index. */
export interface SealTable {
  /** Random per build, so a template cannot write a placeholder that resolves. */
  readonly nonce: string;
  readonly forms: readonly string[];
}

const placeholder = (nonce: string, i: number): string => `<kiln-sensitive:${nonce}:${i}>`;

/** Replaces every form of every value by a placeholder; returns the copy and the table to undo it. */
export function sealValue<T>(value: T, values: readonly string[], nonce: string): { sealed: T; table: SealTable } {
  const forms = formsOf(values);
  const table: SealTable = { nonce, forms };
  const re = replacer(forms);
  if (!re) return { sealed: value, table };
  const index = new Map(forms.map((f, i) => [f, i]));
  const sealed = mapStrings(value, (s) => s.replace(re, (m) => placeholder(nonce, index.get(m) ?? -1))) as T;
  return { sealed, table };
}

/** Puts the values back (only where a provisioner needs them, right before rendering). */
export function unsealValue<T>(value: T, table: SealTable): T {
  if (table.forms.length === 0) return value;
  const re = new RegExp(`<kiln-sensitive:${escapeRegExp(table.nonce)}:(\\d+)>`, 'g');
  return mapStrings(value, (s) => s.replace(re, (m, i: string) => table.forms[Number(i)] ?? m)) as T;
}

/** Placeholders shown to people and AWS (tags, names, descriptions): `<sensitive>`. */
export function placeholdersRedacted<T>(value: T, table: SealTable): T {
  const re = new RegExp(`<kiln-sensitive:${escapeRegExp(table.nonce)}:\\d+>`, 'g');
  return mapStrings(value, (s) => s.replace(re, REDACTED)) as T;
}

// ---- logging of handler events ----

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

function mapLeaves(value: unknown, fn: (leaf: unknown) => unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => mapLeaves(v, fn));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapLeaves(v, fn)]));
  return fn(value);
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
