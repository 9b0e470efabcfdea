/** Version parsing and comparison as hashicorp/go-version does for `min_packer_version`. */

export interface Version {
  readonly segments: readonly [number, number, number];
  readonly prerelease: string;
}

const VERSION_RE =
  /^v?([0-9]+(?:\.[0-9]+)*)(?:-([0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*))?(?:\+([0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*))?$/;

export function parseVersion(text: string): Version | undefined {
  const m = VERSION_RE.exec(text.trim());
  if (!m) return undefined;
  const parts = (m[1] as string).split('.').map(Number);
  const seg = (i: number) => parts[i] ?? 0;
  return { segments: [seg(0), seg(1), seg(2)], prerelease: m[2] ?? '' };
}

/** go-version's String(): three segments, prerelease kept. */
export function formatVersion(v: Version): string {
  return `${v.segments.join('.')}${v.prerelease ? `-${v.prerelease}` : ''}`;
}

/** Negative when a < b. A prerelease sorts before its release. */
export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const d = (a.segments[i] ?? 0) - (b.segments[i] ?? 0);
    if (d !== 0) return d;
  }
  if (a.prerelease === b.prerelease) return 0;
  if (!a.prerelease) return 1;
  if (!b.prerelease) return -1;
  return a.prerelease < b.prerelease ? -1 : 1;
}
