/** The lifecycle plan (core/image-registry/lifecycle.ts) and revocation rules (revocation.ts, channels.ts). */
import { describe, expect, it } from 'vitest';
import type { Artifact } from '../../../core/image-registry/artifact.ts';
import { type ChannelState, emptyChannel, promote, rollback } from '../../../core/image-registry/channels.ts';
import { RegistryError } from '../../../core/image-registry/errors.ts';
import {
  assertLifecyclePolicy,
  type LifecyclePolicy,
  planLifecycle,
  protectedArtifacts,
} from '../../../core/image-registry/lifecycle.ts';
import { artifactStatus, descendantsOf, revocationOf } from '../../../core/image-registry/revocation.ts';
import { amiArtifact, imageArtifact } from './fixtures.ts';

const NOW = new Date('2026-06-01T00:00:00.000Z');
const policy: LifecyclePolicy = { keepPerBuild: 2, graceDays: 7, rollbackProtection: 1 };
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();
const ids = (as: readonly Artifact[]) => as.map((a) => a.artifactId).sort();

function channel(current: string | undefined, previous: string[] = [], name = 'prod'): ChannelState {
  return {
    template: 'web',
    build: 'amazon-ebs.base',
    channel: name,
    version: previous.length + 1,
    ...(current ? { current } : {}),
    previous,
  };
}

/** Six versions of one build, oldest first. */
const versions = () => Array.from({ length: 6 }, () => amiArtifact());

describe('planLifecycle', () => {
  it('keeps the newest N per build and deprecates the older ones', () => {
    const v = versions();
    const plan = planLifecycle(v, [], policy, NOW);
    expect(ids(plan.deprecate)).toEqual(ids(v.slice(0, 4)));
    expect(plan.remove).toEqual([]);
    expect(plan.kept.map((k) => k.reason)).toEqual(['recent', 'recent']);
  });

  it('counts per template build: another build keeps its own newest N', () => {
    const a = versions();
    const b = [amiArtifact({ build: 'amazon-ebs.other' }), amiArtifact({ build: 'amazon-ebs.other' })];
    const plan = planLifecycle([...a, ...b], [], policy, NOW);
    expect(ids(plan.deprecate)).toEqual(ids(a.slice(0, 4)));
  });

  it('never touches a channel member or its nearest rollback targets, of any channel', () => {
    const v = versions();
    const [a0, a1, a2, a3] = v as [Artifact, Artifact, Artifact, Artifact];
    const channels = [channel(a1.artifactId, [a3.artifactId, a0.artifactId]), channel(a2.artifactId, [], 'qa')];
    const plan = planLifecycle(v, channels, policy, NOW);
    // a0 is prod's nearest rollback target (protection 1); a3, deeper in its stack, is not protected.
    expect(ids(plan.deprecate)).toEqual(ids([a3]));
    expect(plan.kept).toEqual(
      expect.arrayContaining([
        { artifactId: a1.artifactId, reason: 'channel' },
        { artifactId: a2.artifactId, reason: 'channel' },
        { artifactId: a0.artifactId, reason: 'rollback-target' },
      ]),
    );
  });

  it('a channel member is protected even when it is already deprecated past its grace period', () => {
    const v = versions();
    const old = { ...v[0], retirement: { deprecatedAt: daysAgo(30) } } as Artifact;
    const plan = planLifecycle([old, ...v.slice(1)], [channel(old.artifactId)], policy, NOW);
    expect(plan.remove).toEqual([]);
    expect(plan.kept).toContainEqual({ artifactId: old.artifactId, reason: 'channel' });
  });

  it('deletes only after the grace period, counted from the recorded deprecation', () => {
    const v = versions();
    const due = { ...v[0], retirement: { deprecatedAt: daysAgo(7) } } as Artifact;
    const waiting = { ...v[1], retirement: { deprecatedAt: daysAgo(6) } } as Artifact;
    const gone = { ...v[2], retirement: { deprecatedAt: daysAgo(40), retiredAt: daysAgo(33) } } as Artifact;
    const plan = planLifecycle([due, waiting, gone, ...v.slice(3)], [], policy, NOW);
    expect(ids(plan.remove)).toEqual(ids([due]));
    expect(ids(plan.deprecate)).toEqual(ids([v[3] as Artifact]));
    expect(plan.kept).toEqual(
      expect.arrayContaining([
        { artifactId: waiting.artifactId, reason: 'in-grace' },
        { artifactId: gone.artifactId, reason: 'retired' },
      ]),
    );
  });

  it('keeps a container image another remaining artifact records (same repository and digest)', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const old = imageArtifact({ retirement: { deprecatedAt: daysAgo(30) } });
    const sameImage = (a: Artifact): Artifact => ({ ...a, content: { ...a.content, digest } as Artifact['content'] });
    const olderShared = sameImage(old);
    const rebuilds = [imageArtifact(), imageArtifact()];
    const newestShared = sameImage(rebuilds[1] as Artifact);
    const plan = planLifecycle([olderShared, rebuilds[0] as Artifact, newestShared], [], policy, NOW);
    expect(plan.remove).toEqual([]);
    expect(plan.kept).toContainEqual({ artifactId: olderShared.artifactId, reason: 'shared-image' });
    // Without the newer record holding the digest, it goes.
    const alone = planLifecycle([old, ...rebuilds], [], policy, NOW);
    expect(ids(alone.remove)).toEqual([old.artifactId]);
  });

  it('leaves agent artifacts alone', () => {
    const agent = (): Artifact => ({
      ...amiArtifact({ build: 'vmware-iso.lab' }),
      content: { kind: 'agent', files: [{ name: 'disk.vmdk', location: 's3://b/agent-artifacts/x' }] },
    });
    const plan = planLifecycle([agent(), agent(), agent()], [], policy, NOW);
    expect(plan.deprecate).toEqual([]);
    expect(plan.kept.map((k) => k.reason).sort()).toEqual(['agent', 'recent', 'recent']);
  });

  it('refuses a policy it cannot apply, saying what is allowed', () => {
    expect(() => assertLifecyclePolicy({ keepPerBuild: 0, graceDays: 1, rollbackProtection: 0 })).toThrow(
      /keepPerBuild must be a whole number of 1 or more/,
    );
    expect(() => planLifecycle([], [], { ...policy, graceDays: 1.5 }, NOW)).toThrow(RegistryError);
  });

  it('protects nothing beyond the current assignment with rollbackProtection 0', () => {
    const held = protectedArtifacts([channel('ka-1', ['ka-2', 'ka-3'])], 0);
    expect([...held]).toEqual([['ka-1', 'channel']]);
  });
});

describe('revocation', () => {
  const revoked = (a: Artifact, cascadedFrom?: string): Artifact => ({
    ...a,
    revoked: revocationOf('arn:aws:iam::1:user/ops', 'CVE-2026-1', '2026-05-01T00:00:00.000Z', cascadedFrom),
  });

  it("refuses to promote a revoked artifact, the pipeline's latest included, saying what to do", () => {
    const a = revoked(amiArtifact());
    const state = emptyChannel({ template: 'web', build: 'amazon-ebs.base', channel: 'latest' });
    const error = (() => {
      try {
        promote(state, a, NOW.toISOString());
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('Revoked');
    expect((error as RegistryError).message).toMatch(
      /was revoked at 2026-05-01T00:00:00.000Z by arn:aws:iam::1:user\/ops \(CVE-2026-1\).*promote another artifact \(`kiln artifacts list web --build amazon-ebs.base`\)/,
    );
  });

  it('refuses to promote a retired artifact (its images are gone)', () => {
    const a = { ...amiArtifact(), retirement: { deprecatedAt: daysAgo(9), retiredAt: daysAgo(2) } };
    const state = emptyChannel({ template: 'web', build: 'amazon-ebs.base', channel: 'prod' });
    expect(() => promote(state, a, NOW.toISOString())).toThrow(/retired by lifecycle/);
  });

  it('refuses to roll back onto a revoked artifact rather than skipping it', () => {
    const a = amiArtifact();
    const b = amiArtifact();
    let state = emptyChannel({ template: 'web', build: 'amazon-ebs.base', channel: 'prod' });
    state = promote(state, a, '2026-05-01T00:00:00.000Z').state;
    state = promote(state, b, '2026-05-02T00:00:00.000Z').state;
    expect(() => rollback(state, NOW.toISOString(), revoked(a))).toThrow(
      /cannot be rolled back onto: promote the artifact you want on prod instead/,
    );
    expect(rollback(state, NOW.toISOString(), a).state.current).toBe(a.artifactId);
  });

  it('needs a reason', () => {
    expect(() => revocationOf('me', '  ', NOW.toISOString())).toThrow(/pass --reason/);
  });

  it('walks descendants breadth first, each once, and does not hang on a loop', async () => {
    const children: Record<string, string[]> = { a: ['b', 'c'], b: ['d'], c: ['d'], d: ['a'] };
    expect(await descendantsOf('a', async (id) => children[id] ?? [])).toEqual(['b', 'c', 'd']);
  });

  it('names the status: revoked before retired before deprecated before outdated', () => {
    const a = amiArtifact();
    expect(artifactStatus(a, false)).toBe('active');
    expect(artifactStatus(a, true)).toBe('outdated');
    expect(artifactStatus({ ...a, retirement: { deprecatedAt: daysAgo(1) } }, true)).toBe('deprecated');
    expect(artifactStatus({ ...a, retirement: { deprecatedAt: daysAgo(9), retiredAt: daysAgo(1) } }, false)).toBe(
      'retired',
    );
    expect(artifactStatus(revoked({ ...a, retirement: { deprecatedAt: daysAgo(1) } }), false)).toBe('revoked');
  });
});
