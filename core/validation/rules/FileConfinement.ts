/**
 * In the pipeline (LoadOptions.confinement), every file a builder or provisioner names must resolve inside the
 * template's root after following symlinks: an uploaded template must not ship the Lambda's own files
 * (`/proc/self/environ`) to the builder. Reported on the attribute, with its file, line and column.
 */
import { fileAccess } from '../../files/access.ts';
import { BUILDER_FILE_KEYS, provisionerFileKeys, writtenPaths } from '../../plan/file-keys.ts';
import type { SourceRange } from '../../template/diagnostics.ts';
import { type Diagnostic, error } from '../../template/diagnostics.ts';
import type { Config, KeyRanges } from '../../template/model.ts';
import type { TemplateRule } from './types.ts';

export const FileConfinement: TemplateRule = (template, ctx) => {
  if (!ctx.confinement) return [];
  const files = fileAccess({ confinement: ctx.confinement });
  const out: Diagnostic[] = [];
  const check = (what: string, config: Config, keys: readonly string[], ranges?: KeyRanges, range?: SourceRange) => {
    for (const key of keys) {
      for (const written of writtenPaths(config, key)) {
        const r = files.resolveWritten(written, template.dir);
        if (r.ok) continue;
        out.push(
          error(
            `Invalid value for "${key}"`,
            `The ${what} names a file the pipeline may not read: ${r.problem}.`,
            ranges?.[key] ?? range,
          ),
        );
      }
    }
  };
  for (const build of template.builds) {
    check(`${build.builderType} builder`, build.config, BUILDER_FILE_KEYS, build.keyRanges, build.range);
    const all = [...build.provisioners, ...(build.errorCleanupProvisioner ? [build.errorCleanupProvisioner] : [])];
    for (const p of all)
      check(`${p.type} provisioner`, p.config, provisionerFileKeys(p.type, p.config), p.keyRanges, p.range);
  }
  return out;
};
