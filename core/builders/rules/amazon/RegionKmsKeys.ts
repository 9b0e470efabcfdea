/** `region_kms_key_ids` and `ami_regions` name the same regions: each keyed region is copied to, and the reverse. */
import type { Finding } from '../../../schema/spec.ts';
import { stringList, stringMap } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function RegionKmsKeys(config: Config): Finding[] {
  const out: Finding[] = [];
  const regions = stringList(config.ami_regions);
  const regionKeys = stringMap(config.region_kms_key_ids);
  for (const region of Object.keys(regionKeys)) {
    if (!regions.includes(region)) {
      out.push({
        message: `Region ${region} is in region_kms_key_ids but not in ami_regions`,
        key: 'region_kms_key_ids',
      });
    }
  }
  if (Object.keys(regionKeys).length > 0) {
    for (const region of new Set(regions)) {
      if (!Object.hasOwn(regionKeys, region)) {
        out.push({ message: `Region ${region} is in ami_regions but not in region_kms_key_ids`, key: 'ami_regions' });
      }
    }
  }
  return out;
}
