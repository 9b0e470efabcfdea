/** At most one of `user_data` and `user_data_file`, and the file exists. */
import { missingFile, statError } from '../../../schema/options.ts';
import type { Finding, ValidateContext } from '../../../schema/spec.ts';
import { isSet, knownString } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function UserData(config: Config, ctx: ValidateContext): Finding[] {
  const out: Finding[] = [];
  if (isSet(config.user_data) && isSet(config.user_data_file)) {
    out.push({ message: 'Only one of user_data or user_data_file can be specified.', key: 'user_data' });
  }
  const userDataFile = knownString(config.user_data_file);
  if (userDataFile && missingFile(ctx, userDataFile)) {
    out.push({
      message: `user_data_file not found: ${userDataFile} (${statError(userDataFile)})`,
      key: 'user_data_file',
    });
  }
  return out;
}
