/** Every post-processor Kiln has a schema for, and how other post-processor types resolve. */

import type { Driver } from '../builders/driver.ts';
import { resolveComponent, thirdPartyComponent, unknownComponent } from '../schema/catalog.ts';
import { OFFICIAL_POSTPROCESSORS, THIRD_PARTY } from '../schema/plugins.ts';
import type { ComponentSpec, ConfigsOf, ValidateContext } from '../schema/spec.ts';
import { type Diagnostic, warning } from '../template/diagnostics.ts';
import type { PostProcessorDef, RequiredPlugin } from '../template/model.ts';
import { dockerImport, dockerPush, dockerSave, dockerTag } from './docker.ts';
import { checksum, compress, manifest } from './files.ts';
import { shellLocalPostProcessor } from './shell-local.ts';

const SPECS = [
  manifest,
  dockerTag,
  dockerPush,
  dockerImport,
  dockerSave,
  checksum,
  compress,
  shellLocalPostProcessor,
] as const;

export const POST_PROCESSORS: ReadonlyMap<string, ComponentSpec> = new Map(SPECS.map((s) => [s.type, s]));

/** The decoded configuration of each post-processor type Kiln has a schema for (`ConfigOf` its shape). */
export type PostProcessorConfigs = ConfigsOf<typeof SPECS>;
export type PostProcessorType = keyof PostProcessorConfigs;

export const ALL_POST_PROCESSOR_TYPES: readonly string[] = [
  ...POST_PROCESSORS.keys(),
  ...OFFICIAL_POSTPROCESSORS,
  ...Object.keys(THIRD_PARTY['post-processor']),
];

export function validatePostProcessor(
  pp: PostProcessorDef,
  driver: Driver,
  ctx: ValidateContext,
  requiredPlugins: readonly RequiredPlugin[],
): Diagnostic[] {
  const resolution = resolveComponent('post-processor', pp.type, POST_PROCESSORS, OFFICIAL_POSTPROCESSORS);
  switch (resolution.status) {
    case 'kiln':
      return resolution.spec.validate(pp.config, pp.keyRanges, ctx);
    case 'official':
      return driver === 'agent'
        ? []
        : [
            warning(
              `Kiln runs the ${pp.type} post-processor only on the agent driver`,
              `This build uses the ${driver} driver; run the build on an agent to use ${pp.type}.`,
              pp.range,
            ),
          ];
    case 'third-party':
      return [thirdPartyComponent('post-processor', pp.type, resolution.source, requiredPlugins, pp.range)];
    case 'unknown':
      return [unknownComponent('post-processor', pp.type, ALL_POST_PROCESSOR_TYPES, pp.range)];
  }
}
