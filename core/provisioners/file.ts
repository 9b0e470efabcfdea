/** file: uploads files or directories to the machine (or downloads from it). Sources must exist unless `generated`. */
import { defineComponent } from '../builders/common/define.ts';
import { bool, type ConfigOf, oneOf, str, strList } from '../builders/common/fields.ts';
import { missingFile, statError } from '../builders/common/options.ts';
import type { Finding } from '../builders/common/spec.ts';
import { isSet, isTrue, knownString, stringList } from '../builders/common/values.ts';
import { nulRules } from './scripts.ts';

export const fileShape = {
  source: str(),
  sources: strList(),
  content: str(),
  destination: str(),
  direction: oneOf('upload', 'download'),
  generated: bool(),
};

export type FileConfig = ConfigOf<typeof fileShape>;

export const file = defineComponent('provisioner', {
  type: 'file',
  shape: fileShape,
  rules: (config, ctx) => {
    const out: Finding[] = [];
    const direction = knownString(config.direction) ?? 'upload';
    const sources = [...stringList(config.source), ...stringList(config.sources)];
    const hasSource = isSet(config.source) || isSet(config.sources);
    if (direction === 'upload' && !isTrue(config.generated)) {
      for (const src of sources) {
        if (missingFile(ctx, src)) {
          out.push({
            message: `Bad source '${src}': ${statError(src)}`,
            key: isSet(config.source) ? 'source' : 'sources',
          });
        }
      }
    }
    if (!hasSource && !isSet(config.content)) out.push({ message: 'Source must be specified.' });
    if (hasSource && isSet(config.content))
      out.push({ message: 'Cannot specify both source and content', key: 'content' });
    if (!isSet(config.destination)) out.push({ message: 'Destination must be specified.' });
    return [...out, ...nulRules(config)];
  },
});
