/** Reading configuration values the way Packer's decoded structs see them, for cross-field rules. */
import { isUnknown } from '../template/model.ts';
import { goBool } from './decode.ts';
import { isDeferred } from './fields.ts';

/** Set to something (an UnknownValue counts as set: it will have a value at run time). */
export function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && !isUnknown(value)) return Object.keys(value).length > 0;
  return true;
}

/** The value as a string when it is known now; undefined when unset, unknown or still templated. */
export function knownString(value: unknown): string | undefined {
  if (isDeferred(value)) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** `goBool`, with everything that is not a known boolean (unset, unknown, still templated) as false. */
export function isTrue(value: unknown): boolean {
  return goBool(value) === true;
}

export function knownNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && !isDeferred(value) && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return undefined;
}

/** A list option as strings (a lone value is a list of one); deferred items are dropped. */
export function stringList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.map(knownString).filter((s): s is string => s !== undefined);
}

/** A map option (`tags`, `region_kms_key_ids`); HCL `[{key, value}]` blocks are not merged here. */
export function stringMap(value: unknown): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value) && !isUnknown(value)) {
    return value as Record<string, unknown>;
  }
  return {};
}

/** First element when a block was handed over as a one-element list (HCL), else the object itself. */
export function blockObject(value: unknown): Record<string, unknown> | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v && typeof v === 'object' && !isUnknown(v) ? (v as Record<string, unknown>) : undefined;
}

/** A value for printing: known strings as is, run-time values by what they stand for. */
export function display(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'toJSON' in value)
    return String((value as { toJSON(): unknown }).toJSON());
  return JSON.stringify(value);
}
