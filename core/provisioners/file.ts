/** file: uploads files or directories to the machine (or downloads from it). Sources must exist unless `generated`. */
import { defineComponent } from '../schema/define.ts';
import { bool, type ConfigOf, oneOf, str, strList } from '../schema/fields.ts';
import { NoNulBytes } from '../schema/rules/NoNulBytes.ts';
import { FileDestination } from './rules/FileDestination.ts';
import { FileSource } from './rules/FileSource.ts';
import { FileSourcesExist } from './rules/FileSourcesExist.ts';

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
  rules: (config, ctx) => [
    ...FileSourcesExist(config, ctx),
    ...FileSource(config),
    ...FileDestination(config),
    ...NoNulBytes(config),
  ],
});
