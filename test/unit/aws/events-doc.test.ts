/** docs/events.md's field tables are the schemas' (scripts/events-doc.ts): regenerate after changing a schema. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_KILN_DETAIL_TYPES } from '../../../aws/events-contract.ts';
import { EVENTS_DOC, renderEventsReference, withReference } from '../../../scripts/events-doc.ts';

describe('docs/events.md', () => {
  const doc = readFileSync(EVENTS_DOC, 'utf8');

  it('holds the reference generated from the detail schemas (run `node --import tsx scripts/events-doc.ts`)', () => {
    expect(doc).toBe(withReference(doc, renderEventsReference()));
  });

  it('documents every detail-type, and every field of a detail with its meaning', () => {
    const reference = renderEventsReference();
    for (const type of ALL_KILN_DETAIL_TYPES) expect(reference).toContain(`### \`${type}\``);
    for (const row of reference.split('\n').filter((l) => l.startsWith('| `'))) {
      expect(row.split('|')[4]?.trim(), row).not.toBe('');
    }
    expect(reference).toContain('| `builds[].cause` | string | no |');
    expect(reference).toContain('| `by` | `pipeline` \\| `cli` | yes |');
  });
});
