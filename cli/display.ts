/** Turning template values into text for people: unknowns, sensitive values and absent fields. */

import { isUnknown } from '../core/template/model.ts';
import { REDACTED } from '../core/template/sensitive.ts';

export const SENSITIVE = REDACTED;

/** Every form of a sensitive value (raw, base64, hex, URL, JSON) is hidden: the one redaction of core/plan. */
export { redactText } from '../core/template/sensitive.ts';

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
