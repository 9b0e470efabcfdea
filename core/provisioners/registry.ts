/** Every provisioner Kiln has a schema for, and how other provisioner types resolve. */

import type { Driver } from '../builders/driver.ts';
import { resolveComponent, thirdPartyComponent, unknownComponent } from '../schema/catalog.ts';
import { OFFICIAL_PROVISIONERS, THIRD_PARTY } from '../schema/plugins.ts';
import type { ComponentSpec, ConfigsOf, ValidateContext } from '../schema/spec.ts';
import { type Diagnostic, warning } from '../template/diagnostics.ts';
import type { ProvisionerDef, RequiredPlugin } from '../template/model.ts';
import { breakpoint } from './breakpoint.ts';
import { file } from './file.ts';
import { powershell } from './powershell.ts';
import { shell } from './shell.ts';
import { shellLocal } from './shell-local.ts';
import { windowsRestart } from './windows-restart.ts';

const SPECS = [shell, file, shellLocal, powershell, windowsRestart, breakpoint] as const;

export const PROVISIONERS: ReadonlyMap<string, ComponentSpec> = new Map(SPECS.map((s) => [s.type, s]));

/** The decoded configuration of each provisioner type Kiln has a schema for (`ConfigOf` its shape). */
export type ProvisionerConfigs = ConfigsOf<typeof SPECS>;
export type ProvisionerType = keyof ProvisionerConfigs;

export const ALL_PROVISIONER_TYPES: readonly string[] = [
  ...PROVISIONERS.keys(),
  ...OFFICIAL_PROVISIONERS,
  ...Object.keys(THIRD_PARTY.provisioner),
];

export function validateProvisioner(
  p: ProvisionerDef,
  driver: Driver,
  ctx: ValidateContext,
  requiredPlugins: readonly RequiredPlugin[],
): Diagnostic[] {
  const resolution = resolveComponent('provisioner', p.type, PROVISIONERS, OFFICIAL_PROVISIONERS);
  switch (resolution.status) {
    case 'kiln':
      return resolution.spec.validate(p.config, p.keyRanges, ctx);
    case 'official':
      return driver === 'agent'
        ? []
        : [
            warning(
              `Kiln runs the ${p.type} provisioner only on the agent driver`,
              `This build uses the ${driver} driver, which runs shell, powershell, file, windows-restart, shell-local and breakpoint provisioners; run the build on an agent to use ${p.type}.`,
              p.range,
            ),
          ];
    case 'third-party':
      return [thirdPartyComponent('provisioner', p.type, resolution.source, requiredPlugins, p.range)];
    case 'unknown':
      return [unknownComponent('provisioner', p.type, ALL_PROVISIONER_TYPES, p.range)];
  }
}
