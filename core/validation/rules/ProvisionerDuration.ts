/** `pause_before` and `timeout` on provisioners must be Go durations (`10s`, `1m30s`); Packer fails on `"5"`. */

import { durationError } from '../../schema/issues.ts';
import { type Diagnostic, error } from '../../template/diagnostics.ts';
import { parseGoDuration } from '../../values/duration.ts';
import type { TemplateRule } from './types.ts';

export const ProvisionerDuration: TemplateRule = (template) => {
  const out: Diagnostic[] = [];
  for (const build of template.builds) {
    const all = [...build.provisioners, ...(build.errorCleanupProvisioner ? [build.errorCleanupProvisioner] : [])];
    for (const p of all) {
      for (const [key, value] of [
        ['pause_before', p.pauseBefore],
        ['timeout', p.timeout],
      ] as const) {
        if (value === undefined || value === '' || parseGoDuration(value) !== undefined || value.includes('{{'))
          continue;
        out.push(
          error(
            `Failed to parse ${key} of the ${p.type} provisioner: ${durationError(value)}`,
            `Use a Go duration such as "10s", "5m" or "1m30s".`,
            p.keyRanges?.[key] ?? p.range,
          ),
        );
      }
    }
  }
  return out;
};
