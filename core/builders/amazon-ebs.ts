/** amazon-ebs: launches an instance from a source AMI, provisions it, snapshots it into a new AMI (driver ec2-ami). */

import { items } from '../schema/decoded.ts';
import type { ConfigOf } from '../schema/fields.ts';
import { communicatorRemovedKeys, communicatorRules } from '../schema/options.ts';
import { blockObject, display, knownString, stringList } from '../schema/values.ts';
import type { Config } from '../template/model.ts';
import { ebsShape } from './amazon/shape.ts';
import { defineBuilder } from './define.ts';
import type { BuildSummary } from './driver.ts';
import { AMAZON_EBS_RULES } from './rules/amazon/index.ts';

/** The decoded amazon-ebs configuration the plan carries (derived from the shape that validates it). */
export type AmazonEbsConfig = ConfigOf<typeof ebsShape>;

/** What the ec2-ami stages need that is derived from options, computed once at plan time. */
export interface AmiFacts {
  /** `region`, when set; unset, the build runs in the deployment's home region (known at run time). */
  readonly region?: string;
  /**
   * `ami_name` as planned (plan-time expressions such as `{{timestamp}}` rendered); unset, Kiln names the AMI
   * `kiln-<build id>-<index>` at run time. A run-time expression travels as written, as it always did.
   */
  readonly name?: string;
  /** `ami_regions` without duplicates, in template order (the copy stage skips the source region). */
  readonly copyRegions: readonly string[];
}

export function amiFacts(config: AmazonEbsConfig): AmiFacts {
  return {
    ...(config.region ? { region: config.region } : {}),
    ...(config.ami_name ? { name: config.ami_name } : {}),
    copyRegions: [...new Set(items(config.ami_regions))],
  };
}

/** The AMI's name: `ami_name` as planned, else `kiln-<build id>-<index>` (the build id exists at run time only). */
export function amiName(facts: AmiFacts, buildId: string, index: number): string {
  return facts.name ?? `kiln-${buildId}-${index}`;
}

function sourceAmi(config: Config): string | undefined {
  const direct = display(config.source_ami);
  if (direct) return direct;
  const filter = blockObject(config.source_ami_filter);
  if (!filter) return undefined;
  const filters =
    filter.filters && typeof filter.filters === 'object' ? (filter.filters as Record<string, unknown>) : {};
  const parts = Object.entries(filters).map(([k, v]) => `${k}=${display(v) ?? ''}`);
  const owners = stringList(filter.owners);
  if (owners.length > 0) parts.push(`owners=${owners.join(',')}`);
  return `filter: ${parts.join(' ')}`.trim();
}

export function summarizeEbs(config: AmazonEbsConfig): BuildSummary {
  // The same facts the stages read (region, name, copy regions), so `kiln plan` shows what will run.
  const facts = amiFacts(config);
  const regions = [...new Set([...(facts.region ? [facts.region] : []), ...facts.copyRegions])];
  const instanceType = display(config.instance_type) ?? (stringList(config.spot_instance_types).join(',') || undefined);
  const summary: BuildSummary = {
    ...(instanceType ? { instanceType } : {}),
    ...(sourceAmi(config) ? { sourceAmi: sourceAmi(config) } : {}),
    ...(facts.name ? { amiName: facts.name } : {}),
    ...(regions.length > 0 ? { regions } : {}),
  };
  return summary;
}

export const amazonEbs = defineBuilder({
  type: 'amazon-ebs',
  driver: 'ec2-ami',
  shape: ebsShape,
  removedKeys: [...communicatorRemovedKeys, 'shutdown_behaviour', 'enhanced_networking', 'ssh_private_ip'],
  rules: (config, ctx) => [
    ...AMAZON_EBS_RULES.flatMap((rule) => rule(config, ctx)),
    // Kiln talks to the instance through SSM, but Packer still requires the communicator settings.
    ...(knownString(config.communicator) === 'none' ? [] : communicatorRules(config, ctx)),
  ],
  summarize: summarizeEbs,
});
