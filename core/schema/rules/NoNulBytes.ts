/** A NUL byte cannot travel through a shell or an SSM command: refuse it wherever it is. */
import type { Config } from '../../template/model.ts';
import type { Finding } from '../spec.ts';
import { knownString, stringMap } from '../values.ts';

/** Known strings anywhere in a provisioner's config, with the top-level key they sit under. */
function stringsUnder(value: unknown, key: string, out: [string, string][]): void {
  const known = knownString(value);
  if (known !== undefined) out.push([key, known]);
  else if (Array.isArray(value)) for (const item of value) stringsUnder(item, key, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(stringMap(value))) {
      out.push([key, k]);
      stringsUnder(v, key, out);
    }
  }
}

export function NoNulBytes(config: Config): Finding[] {
  const found: [string, string][] = [];
  for (const [key, value] of Object.entries(config)) stringsUnder(value, key, found);
  const keys = new Set(found.filter(([, v]) => v.includes('\0')).map(([k]) => k));
  return [...keys].map((key) => ({
    message: `${key} contains a NUL byte, which a shell cannot carry`,
    detail: 'Remove the NUL (\\u0000) character from the value.',
    key,
  }));
}
