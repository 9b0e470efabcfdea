/** An upload's `source`/`sources` exist (unless `generated`: an earlier step creates them). */
import { missingFile, statError } from '../../schema/options.ts';
import type { Finding, ValidateContext } from '../../schema/spec.ts';
import { isSet, isTrue, knownString, stringList } from '../../schema/values.ts';
import type { Config } from '../../template/model.ts';

export function FileSourcesExist(config: Config, ctx: ValidateContext): Finding[] {
  const direction = knownString(config.direction) ?? 'upload';
  if (direction !== 'upload' || isTrue(config.generated)) return [];
  const sources = [...stringList(config.source), ...stringList(config.sources)];
  return sources
    .filter((src) => missingFile(ctx, src))
    .map((src) => ({
      message: `Bad source '${src}': ${statError(src)}`,
      key: isSet(config.source) ? 'source' : 'sources',
    }));
}
