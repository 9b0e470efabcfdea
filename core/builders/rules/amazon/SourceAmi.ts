/** Exactly one source image: `source_ami` or a `source_ami_filter` that names owners or filters. */
import type { Finding } from '../../../schema/spec.ts';
import { blockObject, isSet } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function SourceAmi(config: Config): Finding[] {
  const out: Finding[] = [];
  const hasAmi = isSet(config.source_ami);
  const filter = blockObject(config.source_ami_filter);
  const hasFilter = filter !== undefined && (isSet(filter.filters) || isSet(filter.owners));
  if (!hasAmi && !hasFilter) out.push({ message: 'A source_ami or source_ami_filter must be specified' });
  if (hasAmi && hasFilter) {
    // Packer itself would combine both (the id becomes one more filter); Kiln's planner records one source.
    out.push({ message: 'Only one of source_ami or source_ami_filter may be specified', key: 'source_ami' });
  }
  if (filter && !isSet(filter.owners) && !isSet(filter.filters)) {
    out.push({ message: 'For security reasons, you must declare an owner.', key: 'source_ami_filter' });
  }
  return out;
}
