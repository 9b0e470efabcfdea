import { describe, expect, it } from 'vitest';
import { selectPath } from '../../harness/event-pump.ts';

describe('selectPath (EventBridge InputPath)', () => {
  const event = { source: 'aws.s3', detail: { bucket: { name: 'b' }, object: { key: 'templates/a.pkr.hcl' } } };

  it.each([
    ['$', event],
    ['$.detail.object', { key: 'templates/a.pkr.hcl' }],
    ['$.detail.bucket.name', 'b'],
    ['$.detail.missing', undefined],
  ])('selects %s', (path, expected) => {
    expect(selectPath(event, path)).toEqual(expected);
  });

  it('refuses paths it cannot evaluate rather than guessing', () => {
    expect(() => selectPath(event, '$.detail[0]')).toThrow(/unsupported InputPath/);
  });
});
