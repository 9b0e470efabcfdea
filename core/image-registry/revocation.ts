/**
 * Revocation: an artifact marked bad (and, with `--cascade`, every artifact built from it, transitively) is never
 * promoted again, its AMIs are deprecated, and a channel cannot be rolled back onto it. Pure decisions; the store
 * (aws/image-registry-store.ts revokeArtifacts) finds descendants through child pointers and writes the marks.
 */
import type { Artifact, ArtifactRevocation } from './artifact.ts';
import { RegistryError } from './errors.ts';

/** How a revoke is recorded: who (the caller's identity), why (`--reason`, required) and when. */
export function revocationOf(by: string, reason: string, at: string, cascadedFrom?: string): ArtifactRevocation {
  if (reason.trim() === '') {
    throw new RegistryError('InvalidRequest', 'a revoke needs a reason: pass --reason "<why>" (it is recorded)');
  }
  return { at, by, reason: reason.trim(), ...(cascadedFrom ? { cascadedFrom } : {}) };
}

/**
 * Refuses an artifact no channel may take: revoked (the reason says why), or retired by lifecycle (its images are
 * gone, so the parameter would name an AMI that no longer exists). `action` names what was asked, for the message.
 */
export function assertAssignable(artifact: Artifact, action: 'promote' | 'rollback', channel: string): void {
  const r = artifact.revoked;
  const next =
    action === 'promote'
      ? `promote another artifact (\`kiln artifacts list ${artifact.template} --build ${artifact.build}\`)`
      : `promote the artifact you want on ${channel} instead (\`kiln channels promote ${artifact.template} ${artifact.build} ${channel} <artifact>\`)`;
  if (r) {
    throw new RegistryError(
      'Revoked',
      `artifact ${artifact.artifactId} was revoked at ${r.at} by ${r.by} (${r.reason}${
        r.cascadedFrom ? `; revoked with its ancestor ${r.cascadedFrom}` : ''
      }), so it cannot be ${action === 'promote' ? 'promoted' : 'rolled back onto'}: ${next}`,
    );
  }
  if (artifact.retirement?.retiredAt) {
    throw new RegistryError(
      'Retired',
      `artifact ${artifact.artifactId} was retired by lifecycle at ${artifact.retirement.retiredAt} (its images are ` +
        `deleted), so it cannot be ${action === 'promote' ? 'promoted' : 'rolled back onto'}: ${next}`,
    );
  }
}

/**
 * The artifacts a revoke reaches, root first then breadth first through `childrenOf` (ids), each once: lineage
 * cannot loop (a child is always built after its parent), but a corrupt record must not hang the command.
 */
export async function descendantsOf(
  rootId: string,
  childrenOf: (artifactId: string) => Promise<readonly string[]>,
): Promise<string[]> {
  const seen = new Set([rootId]);
  const order = [rootId];
  for (let i = 0; i < order.length; i++) {
    for (const child of await childrenOf(order[i] as string)) {
      if (seen.has(child)) continue;
      seen.add(child);
      order.push(child);
    }
  }
  return order.slice(1);
}

/** One word for people: what state an artifact is in (outdated comes from lineage.ts isOutdated). */
export type ArtifactStatus = 'revoked' | 'retired' | 'deprecated' | 'outdated' | 'active';

export function artifactStatus(artifact: Artifact, outdated: boolean): ArtifactStatus {
  if (artifact.revoked) return 'revoked';
  if (artifact.retirement?.retiredAt) return 'retired';
  if (artifact.retirement) return 'deprecated';
  return outdated ? 'outdated' : 'active';
}
