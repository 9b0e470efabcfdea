/** amazon-ebs: launches an instance from a source AMI, provisions it, snapshots it into a new AMI (driver ec2-ami). */

import { communicatorRemovedKeys, communicatorRules } from '../schema/options.ts';
import { blockObject, display, knownString, stringList } from '../schema/values.ts';
import type { Config } from '../template/model.ts';
import { ebsShape } from './amazon/shape.ts';
import { defineBuilder } from './define.ts';
import type { BuildSummary } from './driver.ts';
import { AMAZON_EBS_RULES } from './rules/amazon/index.ts';

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

export function summarizeEbs(config: Config): BuildSummary {
  const region = display(config.region);
  const regions = [...new Set([...(region ? [region] : []), ...stringList(config.ami_regions)])];
  const instanceType = display(config.instance_type) ?? (stringList(config.spot_instance_types).join(',') || undefined);
  const summary: BuildSummary = {
    ...(instanceType ? { instanceType } : {}),
    ...(sourceAmi(config) ? { sourceAmi: sourceAmi(config) } : {}),
    ...(display(config.ami_name) ? { amiName: display(config.ami_name) } : {}),
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
