/**
 * Kiln's events on EventBridge: one source (`kiln`) for all of them, their detail-types, and a zod schema per
 * detail. The stages that emit (PrepareBuild, Finalize, the registry store behind `kiln channels`, revoke) build
 * details with the builders here; the CDK app conditions `events:PutEvents` on the source and detail-types here
 * and builds the notification rule's pattern from them; docs/events.md is generated from the schemas
 * (scripts/events-doc.ts, checked by test/unit/aws/events-doc.test.ts), so the documented fields cannot drift.
 *
 * Every detail carries `schemaVersion` (1): a field is only ever added; a change that would break a consumer
 * gets a new version. Delivery is at least once (a retried stage emits again): deduplicate on the detail's ids.
 */
import * as z from 'zod/mini';
import { pinnedImageReference } from '../core/image-registry/parameter.ts';

/** The `source` of every event Kiln puts on the account's default bus. */
export const KILN_EVENT_SOURCE = 'kiln';

export const KILN_DETAIL_TYPES = {
  buildStarted: 'Kiln Build Started',
  buildSucceeded: 'Kiln Build Succeeded',
  buildFailed: 'Kiln Build Failed',
  channelUpdated: 'Kiln Channel Updated',
  artifactRevoked: 'Kiln Artifact Revoked',
  scheduleDisabled: 'Kiln Schedule Disabled',
} as const;
export type KilnEventName = keyof typeof KILN_DETAIL_TYPES;
export type KilnDetailType = (typeof KILN_DETAIL_TYPES)[KilnEventName];

/** Every Kiln detail-type (the IAM condition and the docs list them all). */
export const ALL_KILN_DETAIL_TYPES: readonly KilnDetailType[] = Object.values(KILN_DETAIL_TYPES);

/** What the optional SNS notifications forward when the stack prop names nothing else. */
export const DEFAULT_NOTIFIED_DETAIL_TYPES: readonly KilnDetailType[] = [
  KILN_DETAIL_TYPES.buildFailed,
  KILN_DETAIL_TYPES.artifactRevoked,
  KILN_DETAIL_TYPES.scheduleDisabled,
];

export const EVENT_SCHEMA_VERSION = 1;

/** Longest error cause an event carries (PutEvents takes 256 KB per call; a Map may have many builds). */
export const MAX_EVENT_CAUSE = 1_000;
/** Longest summary line. */
export const MAX_EVENT_SUMMARY = 2_000;

const d = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description)) as T;
const text = (description: string) => d(z.string(), description);
const optText = (description: string) => z.optional(text(description));
const isoTime = (description: string) => text(`${description} (ISO 8601, UTC)`);

const version = d(z.literal(EVENT_SCHEMA_VERSION), 'Version of this detail schema; fields are only ever added.');
const buildId = text('The build id (`kb-…`): one per Step Functions execution; `kiln builds show <id>`.');
const executionName = text("The build state machine execution's name (its ARN ends with it).");
const templateLocation = d(
  z.object({
    bucket: text('Template bucket.'),
    key: text('Key of the template or bundle under `templates/`.'),
    versionId: optText('S3 version id the build read (absent when the bucket gave none).'),
  }),
  'Where the template came from.',
);
const registryTemplate = text(
  "The template's name in the image registry (its key without `templates/` and the suffix), as `kiln artifacts list` takes it.",
);
const trigger = text('What started the build: `s3-upload`, `schedule`, `request` (a direct StartExecution).');
const schedule = optText('The EventBridge Scheduler schedule that started it (trigger `schedule`).');

export const buildStartedDetailSchema = d(
  z.object({
    schemaVersion: version,
    buildId,
    executionName,
    template: templateLocation,
    registryTemplate,
    trigger,
    schedule,
    startedAt: isoTime('When PrepareBuild recorded the build'),
    builds: d(
      z.array(
        z.object({
          index: d(z.number(), 'Position in the template (0-based).'),
          name: text('Packer build name (`amazon-ebs.ubuntu`).'),
          driver: text('How it runs: `ec2-ami`, `ec2-docker` or `agent`.'),
        }),
      ),
      'The builds this execution runs (after only/except).',
    ),
    changeCheck: z.optional(
      d(
        z.object({
          changed: d(z.literal(true), 'Always true here: an unchanged run is SKIPPED and emits nothing.'),
          reason: text('Which input moved (`amazon-ebs.base: source AMI moved from ami-a to ami-b`).'),
          comparedWith: optText('The earlier successful build compared with.'),
        }),
        'The only-if-changed verdict, when the schedule asked for one.',
      ),
    ),
  }),
  'A build was planned and recorded and its builds start now. Not sent for an upload that is not a template (NotATemplate), for a template that fails validation in PrepareBuild (the execution fails; Step Functions reports it), nor for a scheduled only-if-changed run found unchanged (recorded SKIPPED in the builds table, nothing built).',
);
export type BuildStartedDetail = z.infer<typeof buildStartedDetailSchema>;

const buildEndedBuild = z.object({
  name: text('Packer build name.'),
  status: d(z.enum(['SUCCEEDED', 'FAILED']), "This build's outcome."),
  artifactId: optText("Packer's artifact id: `us-east-1:ami-…,eu-west-1:ami-…`, `<repo>@sha256:…`, an agent's id."),
  registryArtifactId: optText(
    'The image registry artifact (`ka-…`) it was recorded as (AMI and pushed docker builds).',
  ),
  channelParameter: optText('The SSM parameter of its `latest` channel, when Finalize moved it.'),
  error: optText('Error name of a failed build (`Kiln.ProvisionerFailed`, `Kiln.Timeout`, ...).'),
  cause: optText(
    `Its cause, redacted of the template's sensitive values and cut to ${MAX_EVENT_CAUSE} characters (\`kiln builds logs\` has the rest).`,
  ),
});

export const buildEndedDetailSchema = d(
  z.object({
    schemaVersion: version,
    buildId,
    executionName,
    template: templateLocation,
    registryTemplate,
    trigger: z.optional(trigger),
    schedule,
    status: d(
      z.enum(['SUCCEEDED', 'FAILED', 'PARTIAL']),
      'The execution: SUCCEEDED (every build), FAILED (none), PARTIAL (some; the execution fails, as Packer exits non-zero).',
    ),
    startedAt: z.optional(isoTime('When the build was recorded')),
    finishedAt: isoTime('When Finalize recorded the outcome'),
    summary: text(`One line: \`1 of 2 builds failed: web (Kiln.Timeout)\` (at most ${MAX_EVENT_SUMMARY} characters).`),
    manifest: d(
      z.object({
        bucket: text('Artifacts bucket.'),
        key: text('`manifests/<build id>/manifest.json` (kept; outside the expiring `builds/`).'),
        uri: text('`s3://bucket/key`.'),
      }),
      'The Packer manifest Finalize wrote.',
    ),
    builds: d(z.array(buildEndedBuild), 'Each build of the execution, in template order.'),
  }),
  'Finalize recorded the outcome of every build of the execution. `Kiln Build Succeeded` when all succeeded, `Kiln Build Failed` when any failed (status FAILED or PARTIAL); the same detail either way.',
);
export type BuildEndedDetail = z.infer<typeof buildEndedDetailSchema>;

const channelParameter = z.object({
  region: text('Region the parameter is in.'),
  name: text('`/kiln/<template>/<build>/<channel>`.'),
  value: text('The AMI id, or the pinned image reference `repo@sha256:…`.'),
  dataType: d(z.enum(['aws:ec2:image', 'text']), 'SSM data type.'),
});

export const channelUpdatedDetailSchema = d(
  z.object({
    schemaVersion: version,
    template: text("The template's registry name."),
    build: text('Packer build name.'),
    channel: text('`latest`, `prod`, ...'),
    action: d(z.enum(['promote', 'rollback']), 'What moved it.'),
    artifactId: text('The artifact (`ka-…`) the channel holds now.'),
    previousArtifactId: optText('The artifact it held before (absent on its first assignment).'),
    channelVersion: d(z.number(), "The channel's version after this change (1 for its first assignment)."),
    changedAt: isoTime('When the change was written'),
    parameters: d(z.array(channelParameter), 'The SSM parameter(s) published for it, one per region.'),
    by: d(
      z.enum(['pipeline', 'cli']),
      '`pipeline`: Finalize moved `latest` after a build; `cli`: `kiln channels promote|rollback`.',
    ),
    buildId: optText('The build whose Finalize moved it (by `pipeline`).'),
  }),
  'A channel was assigned another artifact and published: Finalize moving `latest`, `kiln channels promote`, `kiln channels rollback`. Promoting the artifact a channel already holds changes nothing and emits nothing.',
);
export type ChannelUpdatedDetail = z.infer<typeof channelUpdatedDetailSchema>;

export const artifactRevokedDetailSchema = d(
  z.object({
    schemaVersion: version,
    artifactId: text('The revoked artifact (`ka-…`).'),
    template: text("The template's registry name."),
    build: text('Packer build name.'),
    buildId: text('The build that made it.'),
    kind: d(z.enum(['ami', 'container-image', 'agent']), 'What it is.'),
    images: d(
      z.array(z.object({ region: text('Region.'), imageId: text('AMI id (deprecated by the revoke).') })),
      'Its AMIs, per region (empty for other kinds).',
    ),
    imageUri: optText('A container image: its pinned reference `repo@sha256:…`.'),
    revokedAt: isoTime('When it was revoked'),
    reason: optText('The reason given to `kiln artifacts revoke`.'),
    cascadeFrom: optText('With `--cascade`: the artifact whose revocation reached this descendant.'),
  }),
  'An artifact was revoked (`kiln artifacts revoke`): it can no longer be promoted. One event per artifact, descendants revoked by `--cascade` included.',
);
export type ArtifactRevokedDetail = z.infer<typeof artifactRevokedDetailSchema>;

export const scheduleDisabledDetailSchema = d(
  z.object({
    schedule: text('The schedule (in `group`).'),
    group: text("The stack's schedule group (`kiln`)."),
    template: d(z.object({ bucket: text('Template bucket.'), key: text('Template key.') }), 'What it builds.'),
    failedBuilds: d(z.array(z.string()), 'The failed builds in a row, newest first (build ids).'),
    consecutiveFailures: d(z.number(), 'How many.'),
    limit: d(z.number(), 'The limit that disabled it (`kiln:scheduleFailureLimit`, default 3).'),
    disabledAt: isoTime('When Finalize disabled it'),
    resume: text('The command that turns it back on.'),
  }),
  'A scheduled rebuild failed `limit` times in a row and Finalize disabled its schedule (predates `schemaVersion`: this detail has none).',
);

/** The schema of each detail-type's detail. */
export const KILN_DETAIL_SCHEMAS = {
  [KILN_DETAIL_TYPES.buildStarted]: buildStartedDetailSchema,
  [KILN_DETAIL_TYPES.buildSucceeded]: buildEndedDetailSchema,
  [KILN_DETAIL_TYPES.buildFailed]: buildEndedDetailSchema,
  [KILN_DETAIL_TYPES.channelUpdated]: channelUpdatedDetailSchema,
  [KILN_DETAIL_TYPES.artifactRevoked]: artifactRevokedDetailSchema,
  [KILN_DETAIL_TYPES.scheduleDisabled]: scheduleDisabledDetailSchema,
} as const satisfies Record<KilnDetailType, z.ZodMiniType>;

/** One event to put: its detail-type and detail (the source is always KILN_EVENT_SOURCE). */
export interface KilnEvent {
  readonly detailType: KilnDetailType;
  readonly detail: object;
}

/** Checks a detail against its detail-type's schema; a detail that is not one throws with the zod issue. */
export function checkDetail(detailType: KilnDetailType, detail: unknown): void {
  KILN_DETAIL_SCHEMAS[detailType].parse(detail);
}

export const trimText = (value: string, max: number): string =>
  value.length > max ? `${value.slice(0, max - 1)}…` : value;

// ---------------------------------------------------------------------------------------------------------------
// Builders: the domain facts a stage has, to the event.

export function buildStartedEvent(r: Omit<BuildStartedDetail, 'schemaVersion'>): KilnEvent {
  const detail: BuildStartedDetail = { schemaVersion: EVENT_SCHEMA_VERSION, ...r };
  return { detailType: KILN_DETAIL_TYPES.buildStarted, detail };
}

/** `Kiln Build Succeeded` or `Kiln Build Failed` by the status; causes and the summary trimmed. */
export function buildEndedEvent(r: Omit<BuildEndedDetail, 'schemaVersion'>): KilnEvent {
  const detail: BuildEndedDetail = {
    schemaVersion: EVENT_SCHEMA_VERSION,
    ...r,
    summary: trimText(r.summary, MAX_EVENT_SUMMARY),
    builds: r.builds.map((b) => (b.cause === undefined ? b : { ...b, cause: trimText(b.cause, MAX_EVENT_CAUSE) })),
  };
  return {
    detailType: r.status === 'SUCCEEDED' ? KILN_DETAIL_TYPES.buildSucceeded : KILN_DETAIL_TYPES.buildFailed,
    detail,
  };
}

/** A channel change as the registry store returns it (core/image-registry/channels.ts' ChannelChange). */
export interface ChannelChangeFacts {
  readonly template: string;
  readonly build: string;
  readonly channel: string;
  readonly version: number;
  readonly action: 'promote' | 'rollback';
  readonly artifactId: string;
  readonly replaced?: string;
  readonly at: string;
}

export function channelUpdatedEvent(
  change: ChannelChangeFacts,
  parameters: ChannelUpdatedDetail['parameters'],
  origin: { readonly by: 'pipeline' | 'cli'; readonly buildId?: string },
): KilnEvent {
  const detail: ChannelUpdatedDetail = {
    schemaVersion: EVENT_SCHEMA_VERSION,
    template: change.template,
    build: change.build,
    channel: change.channel,
    action: change.action,
    artifactId: change.artifactId,
    ...(change.replaced ? { previousArtifactId: change.replaced } : {}),
    channelVersion: change.version,
    changedAt: change.at,
    parameters: parameters.map((p) => ({ region: p.region, name: p.name, value: p.value, dataType: p.dataType })),
    by: origin.by,
    ...(origin.buildId ? { buildId: origin.buildId } : {}),
  };
  return { detailType: KILN_DETAIL_TYPES.channelUpdated, detail };
}

/** The registry facts of a revoked artifact (core/image-registry/artifact.ts' Artifact fits). */
export interface RevokedArtifactFacts {
  readonly artifactId: string;
  readonly template: string;
  readonly build: string;
  readonly buildId: string;
  readonly content:
    | { readonly kind: 'ami'; readonly images: readonly { readonly region: string; readonly imageId: string }[] }
    | { readonly kind: 'container-image'; readonly imageUri: string; readonly digest: string }
    | { readonly kind: 'agent' };
}

export function artifactRevokedEvent(
  artifact: RevokedArtifactFacts,
  r: { readonly revokedAt: string; readonly reason?: string; readonly cascadeFrom?: string },
): KilnEvent {
  const c = artifact.content;
  const detail: ArtifactRevokedDetail = {
    schemaVersion: EVENT_SCHEMA_VERSION,
    artifactId: artifact.artifactId,
    template: artifact.template,
    build: artifact.build,
    buildId: artifact.buildId,
    kind: c.kind,
    images: c.kind === 'ami' ? c.images.map((i) => ({ region: i.region, imageId: i.imageId })) : [],
    ...(c.kind === 'container-image' ? { imageUri: pinnedImageReference(c.imageUri, c.digest) } : {}),
    revokedAt: r.revokedAt,
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.cascadeFrom && r.cascadeFrom !== artifact.artifactId ? { cascadeFrom: r.cascadeFrom } : {}),
  };
  return { detailType: KILN_DETAIL_TYPES.artifactRevoked, detail };
}
