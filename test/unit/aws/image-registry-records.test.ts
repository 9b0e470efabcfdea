/** The registry's item forms: every record survives its round trip, keys cannot be forged by names. */
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT_PUT_CONDITION,
  artifactIndexPrefix,
  artifactItem,
  CHILD_PREFIX,
  changeItem,
  changePrefix,
  channelItem,
  channelKey,
  channelWriteCondition,
  childItem,
  imagePointerItem,
  itemType,
  LIFECYCLE_SCAN,
  parseArtifact,
  parseChange,
  parseChannel,
  parseChild,
  parseImagePointer,
  REGISTRY_TABLE,
  retirementUpdate,
  revokeUpdate,
} from '../../../aws/image-registry-records.ts';
import { emptyChannel, promote } from '../../../core/image-registry/channels.ts';
import { amiArtifact, imageArtifact } from '../image-registry/fixtures.ts';

const ref = { template: 'web', build: 'amazon-ebs.base', channel: 'prod' };

describe('registry records', () => {
  it('round-trips artifacts of each kind, with source and parent', () => {
    const ami = amiArtifact({
      images: [
        ['us-east-1', 'ami-0000000a'],
        ['eu-west-1', 'ami-0000000b'],
      ],
      source: { kind: 'ami', region: 'us-east-1', imageId: 'ami-00000001' },
      parent: { artifactId: 'ka-0000000000000001', template: 'base', build: 'os' },
    });
    const image = imageArtifact({ source: { kind: 'image', reference: 'alpine:3' } });
    const agent = amiArtifact({ content: { kind: 'agent', files: [{ name: 'disk.qcow2', location: 's3://b/k' }] } });
    for (const a of [ami, image, agent]) expect(parseArtifact(artifactItem(a))).toEqual(a);
  });

  it('round-trips revocation and retirement; a child pointer sits under its parent, beside the artifact item', () => {
    const revoked = amiArtifact({
      revoked: {
        at: '2026-03-01T00:00:00.000Z',
        by: 'arn:aws:iam::1:user/a',
        reason: 'CVE',
        cascadedFrom: 'ka-0000000000000001',
      },
      retirement: { deprecatedAt: '2026-03-02T00:00:00.000Z', retiredAt: '2026-03-09T00:00:00.000Z', note: 'x left' },
    });
    expect(parseArtifact(artifactItem(revoked))).toEqual(revoked);
    const child = childItem('ka-00000000000000aa', 'ka-00000000000000bb');
    expect(child.pk).toEqual(artifactItem({ ...revoked, artifactId: 'ka-00000000000000aa' }).pk);
    expect(child.sk?.S).toBe(`${CHILD_PREFIX}ka-00000000000000bb`);
    expect(parseChild(child)).toBe('ka-00000000000000bb');
    // The lifecycle Scan keeps artifacts and channel heads, nothing else.
    expect(LIFECYCLE_SCAN.ExpressionAttributeValues[':artifact'].S).toBe(itemType(artifactItem(revoked)));
    expect(LIFECYCLE_SCAN.ExpressionAttributeValues[':channel'].S).toBe(itemType(channelItem(emptyChannel(ref))));
    expect([itemType(child), itemType(imagePointerItem('ami-1', 'ka-1'))]).not.toContain('artifact');
  });

  it('records a deprecation once, a revoke once, and never lets the pipeline overwrite either', () => {
    const first = retirementUpdate('ka-1', { deprecatedAt: '2026-01-01T00:00:00.000Z' });
    expect(first.ConditionExpression).toContain('attribute_not_exists(retirement)');
    const retire = retirementUpdate('ka-1', {
      deprecatedAt: '2026-01-01T00:00:00.000Z',
      retiredAt: '2026-01-08T00:00:00.000Z',
    });
    expect(retire.ConditionExpression).not.toContain('attribute_not_exists(retirement)');
    expect(revokeUpdate('ka-1', { at: 'a', by: 'b', reason: 'c' }).ConditionExpression).toContain(
      'attribute_not_exists(revoked)',
    );
    expect(ARTIFACT_PUT_CONDITION).toBe('attribute_not_exists(revoked) AND attribute_not_exists(retirement)');
  });

  it('indexes artifacts under their template and build, newest sorting last', () => {
    const older = artifactItem(amiArtifact({ createdAt: '2026-01-01T00:00:00.000Z' }));
    const newer = artifactItem(amiArtifact({ createdAt: '2026-01-02T00:00:00.000Z' }));
    const sk = (item: typeof older) => item[REGISTRY_TABLE.templateIndex.sortKey]?.S as string;
    expect(sk(older) < sk(newer)).toBe(true);
    expect(sk(older).startsWith(artifactIndexPrefix('amazon-ebs.base'))).toBe(true);
    expect(older[REGISTRY_TABLE.templateIndex.partitionKey]).toEqual({ S: 'TEMPLATE#web' });
  });

  it('encodes names in keys, so "#" in a build name cannot reach another build', () => {
    expect(artifactIndexPrefix('os#x')).toBe('ARTIFACT#os%23x#');
    expect(artifactIndexPrefix('os#x').startsWith(artifactIndexPrefix('os'))).toBe(false);
    expect(channelKey({ ...ref, build: 'a#b' }).sk).toEqual({ S: 'CHANNEL#a%23b#prod' });
    expect(changePrefix({ ...ref, template: 'team/web' })).toBe('CHANGE#amazon-ebs.base#prod#');
    expect(channelKey({ ...ref, template: 'team/web' }).pk).toEqual({ S: 'TEMPLATE#team%2Fweb' });
  });

  it('round-trips channel heads and changes; change keys sort by version', () => {
    const a = amiArtifact();
    const b = amiArtifact();
    const one = promote(emptyChannel(ref), a, '2026-01-01T00:00:00.000Z');
    const two = promote(one.state, b, '2026-01-02T00:00:00.000Z');
    for (const t of [one, two]) {
      expect(parseChannel(channelItem(t.state))).toEqual(t.state);
      if (t.change) expect(parseChange(changeItem(t.change))).toEqual(t.change);
    }
    const v = (n: number) =>
      changeItem({ ...(two.change as NonNullable<typeof two.change>), version: n }).sk?.S as string;
    expect([v(10), v(9), v(100)].sort()).toEqual([v(9), v(10), v(100)]);
    expect(parseImagePointer(imagePointerItem('ami-0000000a', a.artifactId))).toBe(a.artifactId);
  });

  it('refuses items that are not records, and conditions writes on the version read', () => {
    expect(() => parseArtifact({ pk: { S: 'x' } })).toThrow();
    const item = artifactItem(amiArtifact());
    expect(() => parseArtifact({ ...item, content: { S: '{"kind":"vm"}' } })).toThrow();
    expect(() =>
      parseChange({
        ...changeItem({ ...ref, version: 1, action: 'promote', artifactId: 'x', at: 'y' }),
        action: { S: 'delete' },
      }),
    ).toThrow();
    expect(channelWriteCondition(0)).toEqual({ ConditionExpression: 'attribute_not_exists(pk)' });
    expect(channelWriteCondition(4)).toEqual({
      ConditionExpression: 'version = :expected',
      ExpressionAttributeValues: { ':expected': { N: '4' } },
    });
  });
});
