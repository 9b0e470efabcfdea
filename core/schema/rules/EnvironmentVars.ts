/**
 * `environment_vars` and `env`: Packer only needs `key=value` with a non-empty key; Kiln also needs the key to
 * be an identifier, because names are written unquoted into generated shell and PowerShell.
 */
import type { Config } from '../../template/model.ts';
import { envNameProblem, printable } from '../env-names.ts';
import type { Finding } from '../spec.ts';
import { stringList, stringMap } from '../values.ts';

export function EnvironmentVars(config: Config): Finding[] {
  const out: Finding[] = [];
  for (const kv of stringList(config.environment_vars)) {
    const eq = kv.indexOf('=');
    if (eq <= 0) {
      out.push({
        message: `Environment variable not in format 'key=value': ${printable(kv)}`,
        key: 'environment_vars',
      });
      continue;
    }
    const problem = envNameProblem(kv.slice(0, eq));
    if (problem) out.push({ message: problem, key: 'environment_vars' });
  }
  for (const name of Object.keys(stringMap(config.env))) {
    const problem = envNameProblem(name);
    if (problem) out.push({ message: problem, key: 'env' });
  }
  return out;
}
