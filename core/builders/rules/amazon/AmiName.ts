/** `ami_name` is required and must be a name EC2 accepts (length and characters, as Packer's ValidateAMIName). */
import type { Finding } from '../../../schema/spec.ts';
import { isSet, knownString } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';
import { amiNameProblems } from '../../amazon/ami-name.ts';

export function AmiName(config: Config): Finding[] {
  const out: Finding[] = [];
  const name = knownString(config.ami_name) ?? (typeof config.ami_name === 'string' ? config.ami_name : undefined);
  if (!isSet(config.ami_name)) out.push({ message: 'ami_name must be specified' });
  else if (name !== undefined) {
    for (const message of amiNameProblems(name)) out.push({ message, key: 'ami_name' });
  }
  return out;
}
