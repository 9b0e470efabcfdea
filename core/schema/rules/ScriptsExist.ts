/** Every `script` and `scripts` path exists (where Packer looks, then beside the template). */
import type { Config } from '../../template/model.ts';
import { missingFile, resolvePath, statError } from '../options.ts';
import type { Finding, ValidateContext } from '../spec.ts';
import { isSet, knownString, stringList } from '../values.ts';

/** Script paths as Packer collects them: `script` first, then `scripts`. */
export function scriptPaths(config: Config): string[] {
  return [...stringList(config.script), ...stringList(config.scripts)];
}

export function ScriptsExist(config: Config, ctx: ValidateContext): Finding[] {
  const out: Finding[] = [];
  for (const path of scriptPaths(config)) {
    if (missingFile(ctx, path)) {
      out.push({
        message: `Bad script '${path}': ${statError(path)}`,
        detail: `Kiln looked for ${resolvePath(ctx, path)}.`,
        key: isSet(config.script) && knownString(config.script) === path ? 'script' : 'scripts',
      });
    }
  }
  return out;
}
