/**
 * Typed reads from a planned build's configuration (`Record<string, unknown>` after evaluation). Values that
 * are still unknown at run time or have the wrong type are treated as absent; the validator reported them.
 */
import { goBool } from '../../schema/decode.ts';

export type Config = Readonly<Record<string, unknown>>;

export function str(config: Config, key: string): string | undefined {
  const v = config[key];
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

export function num(config: Config, key: string): number | undefined {
  const v = config[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/**
 * The plan stores booleans decoded; a value rendered only at run time is read by the same rule the validator
 * used (Go's ParseBool under weak decoding), so what validated as true never runs as unset.
 */
export function bool(config: Config, key: string): boolean | undefined {
  const v = config[key];
  return v === undefined || v === null ? undefined : goBool(v);
}

export function strList(config: Config, key: string): string[] {
  const v = config[key];
  if (Array.isArray(v))
    return v.filter((x): x is string | number => typeof x === 'string' || typeof x === 'number').map(String);
  if (typeof v === 'string' && v !== '')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return [];
}

export function obj(config: Config, key: string): Config | undefined {
  const v = config[key];
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Config) : undefined;
}

/** Lists of blocks (`launch_block_device_mappings`, HCL repeated blocks or JSON arrays). */
export function objList(config: Config, key: string): Config[] {
  const v = config[key];
  if (Array.isArray(v)) return v.filter((x): x is Config => !!x && typeof x === 'object' && !Array.isArray(x));
  if (v && typeof v === 'object') return [v as Config];
  return [];
}
