/**
 * Typed reads from a planned build's configuration (`Record<string, unknown>` after evaluation). Values that
 * are still unknown at run time or have the wrong type are treated as absent; the validator reported them.
 */
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

export function bool(config: Config, key: string): boolean | undefined {
  const v = config[key];
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
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
