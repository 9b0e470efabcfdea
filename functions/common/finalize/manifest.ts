/**
 * Adapts the execution's build results to core/manifest (the Packer manifest format): run uuid, AMIs per
 * region and the manifest post-processor's custom_data.
 */

import {
  type BuildResult,
  buildManifest,
  type Manifest,
  type ManifestFile,
  type PushedImage,
} from '../../../core/manifest/manifest.ts';
import { isPostProcessor } from '../../../core/plan/typed.ts';
import type { PlannedBuild } from '../../../core/plan/types.ts';
import { known } from '../../../core/schema/decoded.ts';
import type { ImageRecord } from '../../lib/build-state.ts';
import { clientToken } from '../../lib/tokens.ts';

/** A UUID-shaped id derived from the execution, so the same execution always reports the same run uuid. */
export function runUuid(executionName: string): string {
  const h = clientToken('run', executionName);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function amisByRegion(images: readonly ImageRecord[]): Record<string, string> {
  return Object.fromEntries(images.map((i) => [i.region, i.imageId]));
}

/** `custom_data` of the build's manifest post-processor, if it has one. */
export function customData(build: PlannedBuild | undefined): Record<string, string> | undefined {
  for (const chain of build?.postProcessors ?? []) {
    for (const pp of chain) {
      const data = isPostProcessor(pp, 'manifest') ? known(pp.config.custom_data) : undefined;
      if (data) return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, String(v)]));
    }
  }
  return undefined;
}

export interface SucceededBuild {
  readonly name: string;
  readonly build?: PlannedBuild;
  readonly images: readonly ImageRecord[];
  /** A docker build's artifact id as Packer writes it (the AMI path derives its id from `images`). */
  readonly artifactId?: string;
  /** A docker build's pushed images, digests read back from the registry. */
  readonly pushed?: readonly PushedImage[];
  /** Files of an agent build's artifact, as packer reported them. */
  readonly files?: readonly ManifestFile[];
  readonly finishedAt: Date;
}

export function executionManifest(uuid: string, builds: readonly SucceededBuild[]): Manifest {
  const results: BuildResult[] = builds.map((b) => {
    const data = customData(b.build);
    return {
      name: b.name,
      builderType: b.build?.builderType ?? 'amazon-ebs',
      buildTime: b.finishedAt,
      runUuid: uuid,
      ...(b.artifactId !== undefined ? { artifactId: b.artifactId } : { amis: amisByRegion(b.images) }),
      ...(b.pushed ? { pushed: b.pushed } : {}),
      ...(b.files ? { files: b.files } : {}),
      ...(data ? { customData: data } : {}),
    };
  });
  return buildManifest(results, uuid);
}
