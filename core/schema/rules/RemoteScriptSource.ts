/** shell / powershell: exactly one of inline, script, scripts. */
import type { Config } from '../../template/model.ts';
import type { Finding } from '../spec.ts';
import { isSet } from '../values.ts';

export function RemoteScriptSource(config: Config): Finding[] {
  const out: Finding[] = [];
  if (isSet(config.script) && isSet(config.scripts)) {
    out.push({ message: 'Only one of script or scripts can be specified.', key: 'scripts' });
  }
  const hasScripts = isSet(config.script) || isSet(config.scripts);
  const hasInline = config.inline !== undefined && config.inline !== null;
  if (!hasScripts && !hasInline) out.push({ message: 'Either a script file or inline script must be specified.' });
  else if (hasScripts && hasInline) {
    out.push({ message: 'Only a script file or an inline script can be specified, not both.', key: 'inline' });
  }
  return out;
}
