/** `ssh_interface = "session_manager"` needs an instance profile (or a temporary one's policy document). */
import type { Finding } from '../../../schema/spec.ts';
import { isSet, knownString } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function SessionManagerProfile(config: Config): Finding[] {
  if (
    knownString(config.ssh_interface) !== 'session_manager' ||
    isSet(config.iam_instance_profile) ||
    isSet(config.temporary_iam_instance_profile_policy_document)
  )
    return [];
  return [
    {
      message:
        'no iam_instance_profile defined; session_manager connectivity requires a valid instance profile with AmazonSSMManagedInstanceCore permissions. Alternatively a temporary_iam_instance_profile_policy_document can be specified.',
      key: 'ssh_interface',
    },
  ];
}
