/** `max_retries` must be a whole number of retries, zero or more. */
import { type Diagnostic, error } from '../../template/diagnostics.ts';
import type { TemplateRule } from './types.ts';

export const ProvisionerMaxRetries: TemplateRule = (template) => {
  const out: Diagnostic[] = [];
  for (const build of template.builds) {
    for (const p of build.provisioners) {
      const n: unknown = p.maxRetries;
      if (n === undefined) continue;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
        out.push(
          error(
            `max_retries of the ${p.type} provisioner must be a whole number of retries, 0 or more; got ${JSON.stringify(n)}`,
            undefined,
            p.keyRanges?.max_retries ?? p.range,
          ),
        );
      }
    }
  }
  return out;
};
