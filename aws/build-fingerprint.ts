/**
 * A build's input fingerprint and the only-if-changed rule. PrepareBuild computes the fingerprint of every build
 * (functions/common/prepare-build/only-if-changed.ts), the build record keeps it (aws/build-records.ts), and a
 * scheduled build with `onlyIfChanged` compares it with the fingerprint of the template's last successful build
 * here. Pure: the form, its stable JSON, and the verdict with its reason.
 *
 * The rule: a build is unchanged when the template's content (the template and every file beside it, or the
 * bundle's files) hashes the same, the same builds are planned, and each build's source resolves to the same
 * thing: the source AMI id (source_ami, or source_ami_filter resolved now) for amazon-ebs, the image digest for
 * docker. Anything that could not be resolved counts as changed: only-if-changed never skips a build it cannot
 * show to be unchanged.
 */
import * as z from 'zod/mini';

const sourceSchema = z.union([
  /** amazon-ebs: the AMI the build starts from, as resolved at prepare time. */
  z.object({
    kind: z.literal('ami'),
    region: z.string(),
    id: z.string(),
    from: z.enum(['source_ami', 'source_ami_filter']),
  }),
  /** docker: the base image; `digest` when the reference pins one or a resolver found it. */
  z.object({ kind: z.literal('image'), reference: z.string(), digest: z.optional(z.string()) }),
  /** A source that could not be resolved (`what` it was, `reason`): the build counts as changed. */
  z.object({ kind: z.literal('unresolved'), what: z.string(), reason: z.string() }),
  /** A driver whose only input is the template (nothing outside it to resolve). */
  z.object({ kind: z.literal('none') }),
]);
export type SourceInput = z.infer<typeof sourceSchema>;

export const inputFingerprintSchema = z.object({
  version: z.literal(1),
  template: z.object({
    /** sha256 over the template's files: each relative path and its content's sha256, in path order. */
    sha256: z.string(),
    /** The object version read, when S3 said (informational: the content hash decides). */
    versionId: z.optional(z.string()),
  }),
  builds: z.array(z.object({ name: z.string(), driver: z.string(), source: sourceSchema })),
});
export type InputFingerprint = z.infer<typeof inputFingerprintSchema>;

/** The stored form: JSON with builds in name order, so equal inputs store equal strings. */
export function fingerprintJson(fp: InputFingerprint): string {
  const builds = [...fp.builds].sort((a, b) => a.name.localeCompare(b.name));
  return JSON.stringify({ ...fp, builds });
}

/** A stored fingerprint back; undefined for a form this code does not know (a later version: compare as changed). */
export function parseFingerprint(json: string): InputFingerprint | undefined {
  try {
    const parsed = inputFingerprintSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export interface ChangeVerdict {
  readonly changed: boolean;
  /** One line for people: what moved, or what stayed the same and since which build. */
  readonly reason: string;
  /** The successful build compared with, when there was one. */
  readonly comparedWith?: string;
}

function describeSource(s: SourceInput): string {
  switch (s.kind) {
    case 'ami':
      return `${s.id} (${s.region})`;
    case 'image':
      return s.digest ? `${s.reference} (${s.digest})` : s.reference;
    case 'unresolved':
      return `${s.what} (unresolved)`;
    case 'none':
      return 'none';
  }
}

const short = (sha: string) => sha.slice(0, 12);

/** Why one build's source is not shown unchanged, or undefined when it is the same. */
function sourceChange(name: string, now: SourceInput, before: SourceInput | undefined): string | undefined {
  if (now.kind === 'unresolved') {
    return `${name}: ${now.what} could not be resolved (${now.reason}), so it cannot be shown unchanged`;
  }
  if (now.kind === 'image' && !now.digest) {
    return (
      `${name}: base image ${now.reference} is a tag, not resolved to a digest, so it cannot be shown unchanged ` +
      '(pin it as name@sha256:... to let only-if-changed skip this build)'
    );
  }
  if (!before) return `${name}: no source recorded for it in the last successful build`;
  if (now.kind === 'ami' && before.kind === 'ami') {
    return now.id === before.id && now.region === before.region
      ? undefined
      : `${name}: source AMI moved from ${describeSource(before)} to ${describeSource(now)}`;
  }
  if (now.kind === 'image' && before.kind === 'image') {
    return now.digest === before.digest
      ? undefined
      : `${name}: base image moved from ${describeSource(before)} to ${describeSource(now)}`;
  }
  if (now.kind === 'none' && before.kind === 'none') return undefined;
  return `${name}: source changed from ${describeSource(before)} to ${describeSource(now)}`;
}

/**
 * The only-if-changed verdict: `changed: false` only when every input is shown to be the same as in the last
 * successful build; the reason names the first input that moved (or could not be resolved), or what stayed.
 */
export function compareFingerprints(
  now: InputFingerprint,
  last: { readonly buildId: string; readonly fingerprint: InputFingerprint | undefined } | undefined,
): ChangeVerdict {
  if (!last) return { changed: true, reason: 'no successful build of this template is recorded yet' };
  const comparedWith = last.buildId;
  const before = last.fingerprint;
  if (!before) {
    return { changed: true, comparedWith, reason: `build ${last.buildId} recorded no input fingerprint Kiln can read` };
  }
  if (now.template.sha256 !== before.template.sha256) {
    return {
      changed: true,
      comparedWith,
      reason: `the template or a file beside it changed since build ${last.buildId} (sha256 ${short(before.template.sha256)} → ${short(now.template.sha256)})`,
    };
  }
  const names = (fp: InputFingerprint) => fp.builds.map((b) => b.name).sort();
  const added = names(now).filter((n) => !names(before).includes(n));
  const removed = names(before).filter((n) => !names(now).includes(n));
  if (added.length > 0 || removed.length > 0) {
    const parts = [
      ...(added.length ? [`now also ${added.join(', ')}`] : []),
      ...(removed.length ? [`no longer ${removed.join(', ')}`] : []),
    ];
    return {
      changed: true,
      comparedWith,
      reason: `the planned builds changed since build ${last.buildId}: ${parts.join('; ')}`,
    };
  }
  for (const b of [...now.builds].sort((x, y) => x.name.localeCompare(y.name))) {
    const change = sourceChange(b.name, b.source, before.builds.find((p) => p.name === b.name)?.source);
    if (change) return { changed: true, comparedWith, reason: change };
  }
  const sources = now.builds
    .filter((b) => b.source.kind !== 'none')
    .map((b) => `${b.name} from ${describeSource(b.source)}`);
  return {
    changed: false,
    comparedWith,
    reason:
      `unchanged since build ${last.buildId}: same template (sha256 ${short(now.template.sha256)})` +
      (sources.length ? `, ${sources.join(', ')}` : ''),
  };
}
