/** The registry's pure domain: artifact checks, lineage, channel transitions, SSM parameter names and values. */
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT_ID_PATTERN,
  artifactIdFor,
  artifactProblems,
  assertArtifact,
  imageKeysOf,
} from '../../../core/image-registry/artifact.ts';
import { emptyChannel, promote, ROLLBACK_DEPTH, rollback } from '../../../core/image-registry/channels.ts';
import { RegistryError } from '../../../core/image-registry/errors.ts';
import { isOutdated, linkParent, newestVersion } from '../../../core/image-registry/lineage.ts';
import {
  channelParameterName,
  channelParameters,
  parameterSegment,
  pinnedImageReference,
} from '../../../core/image-registry/parameter.ts';
import { amiArtifact, imageArtifact } from './fixtures.ts';

const ref = { template: 'web', build: 'amazon-ebs.base', channel: 'prod' };
const AT = '2026-02-01T00:00:00.000Z';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof RegistryError) return error.code;
    throw error;
  }
  return undefined;
}

describe('artifacts', () => {
  it('derives a stable, short id from execution and build', () => {
    const id = artifactIdFor('kb-1', 'amazon-ebs.base');
    expect(id).toMatch(ARTIFACT_ID_PATTERN);
    expect(artifactIdFor('kb-1', 'amazon-ebs.base')).toBe(id);
    expect(artifactIdFor('kb-1', 'amazon-ebs.other')).not.toBe(id);
    expect(artifactIdFor('kb-2', 'amazon-ebs.base')).not.toBe(id);
  });

  it.each([
    ['no image', { content: { kind: 'ami' as const, images: [] } }, /at least one image/],
    [
      'a malformed AMI id',
      { content: { kind: 'ami' as const, images: [{ region: 'us-east-1', imageId: 'ami-XYZ', snapshotIds: [] }] } },
      /not an AMI id/,
    ],
    [
      'two images in one region',
      {
        content: {
          kind: 'ami' as const,
          images: [
            { region: 'us-east-1', imageId: 'ami-12345678', snapshotIds: [] },
            { region: 'us-east-1', imageId: 'ami-87654321', snapshotIds: [] },
          ],
        },
      },
      /two images in us-east-1/,
    ],
    [
      'a bad snapshot',
      {
        content: {
          kind: 'ami' as const,
          images: [{ region: 'us-east-1', imageId: 'ami-12345678', snapshotIds: ['vol-1'] }],
        },
      },
      /not a snapshot id/,
    ],
    [
      'a bad region',
      { content: { kind: 'ami' as const, images: [{ region: 'mars', imageId: 'ami-12345678', snapshotIds: [] }] } },
      /not a region/,
    ],
    ['a bad id', { artifactId: 'ami-12345678' }, /not ka-/],
    ['a bad date', { createdAt: 'yesterday' }, /not a date/],
    ['a bad source', { source: { kind: 'ami' as const, region: 'us-east-1', imageId: 'x' } }, /source "x"/],
  ])('refuses an AMI artifact with %s', (_name, overrides, problem) => {
    const a = amiArtifact(overrides);
    expect(artifactProblems(a).join('\n')).toMatch(problem);
    expect(codeOf(() => assertArtifact(a))).toBe('InvalidArtifact');
  });

  it('accepts sound records of each kind', () => {
    expect(
      artifactProblems(
        amiArtifact({
          images: [
            ['us-east-1', 'ami-0123456789abcdef0'],
            ['eu-west-1', 'ami-11111111'],
          ],
        }),
      ),
    ).toEqual([]);
    expect(artifactProblems(imageArtifact())).toEqual([]);
    expect(
      artifactProblems(imageArtifact({ content: { kind: 'container-image', imageUri: 'x', digest: 'sha256:1' } })),
    ).toEqual(['"sha256:1" is not a sha256 digest']);
    const agent = amiArtifact({ content: { kind: 'agent', files: [{ name: 'disk.qcow2', location: 's3://b/k' }] } });
    expect(artifactProblems(agent)).toEqual([]);
    expect(imageKeysOf(agent.content)).toEqual([]);
  });
});

describe('lineage', () => {
  const parent = amiArtifact({
    template: 'base',
    build: 'amazon-ebs.os',
    images: [
      ['us-east-1', 'ami-aaaa0001'],
      ['eu-west-1', 'ami-aaaa0002'],
    ],
  });
  const child = amiArtifact({ source: { kind: 'ami', region: 'eu-west-1', imageId: 'ami-aaaa0002' } });

  it('links the Kiln artifact holding the source AMI (in any of its regions) as parent', () => {
    expect(linkParent(child, parent).parent).toEqual({
      artifactId: parent.artifactId,
      template: 'base',
      build: 'amazon-ebs.os',
    });
    expect(linkParent(child, undefined).parent).toBeUndefined();
  });

  it('links a container image to the artifact with its base digest', () => {
    const base = imageArtifact({ template: 'base-image' });
    const app = imageArtifact({
      source: { kind: 'image', reference: 'x/base:1', digest: (base.content as { digest: string }).digest },
    });
    expect(linkParent(app, base).parent?.artifactId).toBe(base.artifactId);
  });

  it('refuses a candidate that does not hold the source, and the artifact itself', () => {
    expect(codeOf(() => linkParent(child, amiArtifact()))).toBe('InvalidArtifact');
    const self = amiArtifact({ images: [['us-east-1', 'ami-bbbb0001']] });
    const selfSourced = { ...self, source: { kind: 'ami' as const, region: 'us-east-1', imageId: 'ami-bbbb0001' } };
    expect(codeOf(() => linkParent(selfSourced, self))).toBe('InvalidArtifact');
  });

  it('marks an artifact outdated once its parent build has a newer version, not before', () => {
    const linked = linkParent(child, parent);
    expect(isOutdated(linked, [parent])).toBe(false);
    const older = amiArtifact({ template: 'base', build: 'amazon-ebs.os', createdAt: '2025-01-01T00:00:00.000Z' });
    expect(isOutdated(linked, [older, parent])).toBe(false);
    // Another build of the same template is not a newer version of the parent.
    const otherBuild = amiArtifact({
      template: 'base',
      build: 'amazon-ebs.other',
      createdAt: '2027-01-01T00:00:00.000Z',
    });
    expect(isOutdated(linked, [parent, otherBuild])).toBe(false);
    const newer = amiArtifact({ template: 'base', build: 'amazon-ebs.os', createdAt: '2027-01-01T00:00:00.000Z' });
    expect(isOutdated(linked, [parent, newer])).toBe(true);
    expect(newestVersion([parent, newer, otherBuild], 'base', 'amazon-ebs.os')?.artifactId).toBe(newer.artifactId);
    // The parent gone (lifecycle removes older versions only) with a version left: superseded.
    expect(isOutdated(linked, [newer])).toBe(true);
    expect(isOutdated(linked, [])).toBe(false);
    expect(isOutdated(child, [newer])).toBe(false);
  });
});

describe('channels', () => {
  const a = amiArtifact();
  const b = amiArtifact();
  const c = amiArtifact();

  it('promotes with history: versions count changes, replaced names the previous artifact', () => {
    const one = promote(emptyChannel(ref), a, AT);
    expect(one.state).toMatchObject({ version: 1, current: a.artifactId, previous: [] });
    expect(one.change).toEqual({ ...ref, version: 1, action: 'promote', artifactId: a.artifactId, at: AT });
    const two = promote(one.state, b, AT);
    expect(two.state).toMatchObject({ version: 2, current: b.artifactId, previous: [a.artifactId] });
    expect(two.change).toMatchObject({ version: 2, replaced: a.artifactId });
  });

  it('changes nothing when the artifact is already on the channel', () => {
    const one = promote(emptyChannel(ref), a, AT);
    const again = promote(one.state, a, AT);
    expect(again.change).toBeUndefined();
    expect(again.state).toBe(one.state);
  });

  it('rolls back one step per call, as a stack', () => {
    let s = emptyChannel(ref);
    for (const x of [a, b, c]) s = promote(s, x, AT).state;
    const back = rollback(s, AT);
    expect(back.state).toMatchObject({ version: 4, current: b.artifactId, previous: [a.artifactId] });
    expect(back.change).toMatchObject({ action: 'rollback', artifactId: b.artifactId, replaced: c.artifactId });
    const backAgain = rollback(back.state, AT);
    expect(backAgain.state).toMatchObject({ current: a.artifactId, previous: [] });
    expect(codeOf(() => rollback(backAgain.state, AT))).toBe('NoPreviousAssignment');
  });

  it('says why there is nothing to roll back to', () => {
    expect(() => rollback(emptyChannel(ref), AT)).toThrow(/never been assigned.*promote an artifact/);
    const one = promote(emptyChannel(ref), a, AT).state;
    expect(() => rollback(one, AT)).toThrow(`has only ever held ${a.artifactId}`);
  });

  it('keeps at most ROLLBACK_DEPTH earlier assignments', () => {
    let s = emptyChannel(ref);
    const all = Array.from({ length: ROLLBACK_DEPTH + 5 }, () => amiArtifact());
    for (const x of all) s = promote(s, x, AT).state;
    expect(s.previous).toHaveLength(ROLLBACK_DEPTH);
    expect(s.previous.at(-1)).toBe(all.at(-2)?.artifactId);
    expect(s.previous[0]).toBe(all[4]?.artifactId);
  });

  it('refuses an artifact of another template or build, and bad channel names', () => {
    expect(codeOf(() => promote(emptyChannel(ref), amiArtifact({ build: 'amazon-ebs.other' }), AT))).toBe('WrongBuild');
    expect(codeOf(() => promote(emptyChannel(ref), amiArtifact({ template: 'api' }), AT))).toBe('WrongBuild');
    for (const bad of ['', '-prod', 'prod/eu', 'pr od', 'x'.repeat(65), 'prod#1']) {
      expect(
        codeOf(() => emptyChannel({ ...ref, channel: bad })),
        bad,
      ).toBe('InvalidName');
    }
    for (const good of ['prod', 'latest', 'Stage_2', 'v1.2-rc', 'x'.repeat(64)]) {
      expect(emptyChannel({ ...ref, channel: good }).channel).toBe(good);
    }
  });
});

describe('SSM parameters', () => {
  it('names the parameter /kiln/<template>/<build>/<channel>', () => {
    expect(channelParameterName(ref)).toBe('/kiln/web/amazon-ebs.base/prod');
  });

  it.each([
    ['web', 'web'],
    ['amazon-ebs.ubuntu_22', 'amazon-ebs.ubuntu_22'],
    ['team/web.pkr.hcl', 'team-web.pkr.hcl'],
    ['templates/a b#c:d', 'templates-a-b-c-d'],
    ['ünïcode', '-n-code'],
    ['..', '--'],
    ['.', '-'],
    ['a..b', 'a..b'],
  ])('maps %j onto SSM characters as %j', (name, segment) => {
    expect(parameterSegment(name)).toBe(segment);
  });

  it('produces only names SSM accepts', () => {
    const ssmName = /^\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
    for (const template of ['web', 'templates/x y.pkr.hcl', '🙂', 'a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p']) {
      const name = channelParameterName({ ...ref, template });
      expect(name, template).toMatch(ssmName);
      expect(name.split('/').length - 1).toBeLessThanOrEqual(15);
      expect(name.toLowerCase().startsWith('/aws') || name.toLowerCase().startsWith('/ssm')).toBe(false);
    }
    expect(codeOf(() => channelParameterName({ ...ref, template: '' }))).toBe('InvalidName');
    const longest = channelParameterName({
      template: 'x'.repeat(256),
      build: 'y'.repeat(256),
      channel: 'z'.repeat(64),
    });
    expect(longest.length).toBeLessThanOrEqual(1011);
    expect(codeOf(() => channelParameterName({ ...ref, template: 'x'.repeat(257) }))).toBe('InvalidName');
  });

  it('publishes an AMI per region with the aws:ec2:image data type', () => {
    const art = amiArtifact({
      images: [
        ['us-east-1', 'ami-0000aaaa'],
        ['eu-west-1', 'ami-0000bbbb'],
      ],
    });
    expect(channelParameters(ref, art, 'us-east-1')).toEqual([
      { region: 'us-east-1', name: '/kiln/web/amazon-ebs.base/prod', value: 'ami-0000aaaa', dataType: 'aws:ec2:image' },
      { region: 'eu-west-1', name: '/kiln/web/amazon-ebs.base/prod', value: 'ami-0000bbbb', dataType: 'aws:ec2:image' },
    ]);
  });

  it('publishes a container image as its pinned reference, as text, in the home region', () => {
    const art = imageArtifact();
    const digest = (art.content as { digest: string }).digest;
    expect(channelParameters({ ...ref, template: 'app', build: 'docker.app' }, art, 'eu-central-1')).toEqual([
      {
        region: 'eu-central-1',
        name: '/kiln/app/docker.app/prod',
        value: `111122223333.dkr.ecr.us-east-1.amazonaws.com/app@${digest}`,
        dataType: 'text',
      },
    ]);
    expect(pinnedImageReference('localhost:5000/app', 'sha256:1')).toBe('localhost:5000/app@sha256:1');
    expect(pinnedImageReference('localhost:5000/app:2@sha256:0', 'sha256:1')).toBe('localhost:5000/app@sha256:1');
  });
});
