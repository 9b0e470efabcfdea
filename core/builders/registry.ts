/** Every builder Kiln knows, and how any builder type resolves: own schema, agent-only, third-party, unknown. */

import { resolveComponent, thirdPartyComponent, unknownComponent } from '../schema/catalog.ts';
import { OFFICIAL_BUILDERS, THIRD_PARTY } from '../schema/plugins.ts';
import type { ValidateContext } from '../schema/spec.ts';
import type { Diagnostic } from '../template/diagnostics.ts';
import { warning } from '../template/diagnostics.ts';
import type { BuildDef, RequiredPlugin } from '../template/model.ts';
import { amazonEbs } from './amazon-ebs.ts';
import type { BuilderSpec } from './define.ts';
import { docker } from './docker.ts';
import type { Driver } from './driver.ts';
import { nullBuilder } from './null.ts';
import { virtualboxIso } from './virtualbox-iso.ts';
import { virtualboxOvf } from './virtualbox-ovf.ts';
import { vmwareIso } from './vmware-iso.ts';
import { vmwareVmx } from './vmware-vmx.ts';

export const BUILDERS: ReadonlyMap<string, BuilderSpec> = new Map(
  [amazonEbs, docker, vmwareIso, vmwareVmx, virtualboxIso, virtualboxOvf, nullBuilder].map((s) => [s.type, s]),
);

export const ALL_BUILDER_TYPES: readonly string[] = [
  ...BUILDERS.keys(),
  ...OFFICIAL_BUILDERS,
  ...Object.keys(THIRD_PARTY.builder),
];

export function builderSpec(type: string): BuilderSpec | undefined {
  return BUILDERS.get(type);
}

/** Driver for any builder type: own specs say, everything else runs on an agent with real packer. */
export function driverFor(type: string): Driver {
  return BUILDERS.get(type)?.driver ?? 'agent';
}

export function validateBuilder(
  build: BuildDef,
  ctx: ValidateContext,
  requiredPlugins: readonly RequiredPlugin[],
): Diagnostic[] {
  const resolution = resolveComponent('builder', build.builderType, BUILDERS, OFFICIAL_BUILDERS);
  switch (resolution.status) {
    case 'kiln':
      return resolution.spec.validate(build.config, build.keyRanges, ctx);
    case 'official':
      return [
        warning(
          `Builder "${build.builderType}" (build "${build.name}") runs on an agent`,
          `Kiln has no schema for ${build.builderType}: its configuration is checked by the agent's packer.`,
          build.range,
        ),
      ];
    case 'third-party':
      return [thirdPartyComponent('builder', build.builderType, resolution.source, requiredPlugins, build.range)];
    case 'unknown':
      return [unknownComponent('builder', build.builderType, ALL_BUILDER_TYPES, build.range)];
  }
}
