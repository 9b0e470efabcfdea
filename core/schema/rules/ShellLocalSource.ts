/** shell-local: exactly one of command, inline, script, scripts. */
import type { Config } from '../../template/model.ts';
import type { Finding } from '../spec.ts';
import { isSet } from '../values.ts';

export function ShellLocalSource(config: Config): Finding[] {
  const sources = ['command', 'inline', 'script', 'scripts'].filter((k) => isSet(config[k]));
  const out: Finding[] = [];
  if (sources.length === 0) out.push({ message: 'Command, Inline, Script and Scripts options cannot all be empty.' });
  if (sources.length > 1) {
    out.push({
      message: 'Only one of command, inline, script or scripts can be specified.',
      detail: `Got: ${sources.join(', ')}.`,
      key: sources[1],
    });
  }
  return out;
}
