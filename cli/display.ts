/** Turning template values into text for people: unknowns, sensitive values and absent fields. */
import { isUnknown } from '../core/template/model.ts';

export const SENSITIVE = '<sensitive>';

/** Replaces every occurrence of a sensitive value; longest first so a value containing another is hidden whole. */
export function redactText(text: string, sensitiveValues: readonly string[]): string {
  const values = [...new Set(sensitiveValues.filter((v) => v.length > 0))].sort((a, b) => b.length - a.length);
  let out = text;
  for (const v of values) out = out.split(v).join(SENSITIVE);
  return out;
}

/** Strings print raw, unknowns as `<unknown: source>`, anything else as compact JSON. */
export function displayValue(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (isUnknown(value)) return `<unknown: ${value.source}>`;
  return JSON.stringify(value) ?? String(value);
}

/** For table cells: absent or empty becomes a dash so columns stay readable. */
export function cell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(displayValue).join(', ');
  const s = displayValue(value);
  return s === '' ? '-' : s;
}
