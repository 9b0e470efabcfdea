/**
 * sealPlan: the plan as PrepareBuild stores it. Sensitive values (in every derived form) never stay in it:
 * inside provisioner configuration they become placeholders that RunProvisioner resolves just before rendering;
 * everywhere else (builder options, tags, AMI names, post-processors, warnings) they become `<sensitive>`,
 * because those values reach AWS APIs, the manifest or people.
 */
import { placeholdersRedacted, type SealTable, sealValue } from '../template/sensitive.ts';
import type { BuildPlan, PlannedBuild } from './types.ts';

export function sealPlan(
  plan: BuildPlan,
  sensitiveValues: readonly string[],
  nonce: string,
): { plan: BuildPlan; table: SealTable } {
  const { sealed, table } = sealValue(plan, sensitiveValues, nonce);
  if (table.forms.length === 0) return { plan: sealed, table };
  const builds = sealed.builds.map((b): PlannedBuild => {
    const { provisioners, errorCleanupProvisioner, ...rest } = b;
    return {
      ...placeholdersRedacted(rest, table),
      provisioners,
      ...(errorCleanupProvisioner ? { errorCleanupProvisioner } : {}),
    };
  });
  const { builds: _sealedBuilds, ...top } = sealed;
  return { plan: { ...placeholdersRedacted(top, table), builds }, table };
}
