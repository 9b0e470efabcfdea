/**
 * The image registry's DynamoDB form: one table, generic keys `pk`/`sk` and one index, several item types. The
 * CDK construct keys the table from REGISTRY_TABLE, the store (image-registry-store.ts) reads and writes only
 * through the item builders and parsers here, so the key layout and the attribute forms have one owner.
 *
 * | item            | pk                       | sk                                   | byTemplate (gsi1pk / gsi1sk)                  |
 * |-----------------|--------------------------|--------------------------------------|-----------------------------------------------|
 * | artifact        | `ARTIFACT#<id>`          | `ARTIFACT`                           | `TEMPLATE#<t>` / `ARTIFACT#<b>#<createdAt>#<id>` |
 * | child pointer   | `ARTIFACT#<parent id>`   | `CHILD#<child id>`                   | -                                             |
 * | image pointer   | `IMAGE#<ami id / digest>`| `IMAGE`                              | -                                             |
 * | channel head    | `TEMPLATE#<t>`           | `CHANNEL#<b>#<c>`                    | -                                             |
 * | channel change  | `TEMPLATE#<t>`           | `CHANGE#<b>#<c>#<version, 10 digits>`| -                                             |
 *
 * Access patterns: an artifact by id (GetItem); a template's artifacts, or one build's, newest last (Query on
 * byTemplate, `begins_with`); the artifact that produced a source AMI or digest (the pointer, then the artifact);
 * a channel's current assignment (GetItem, consistent) and a template's channels (Query `CHANNEL#`); a channel's
 * history in order (Query `CHANGE#<b>#<c>#`); an artifact's children, the artifacts whose lineage parent it is (Query
 * `ARTIFACT#<id>` / `CHILD#`, written with the child by putArtifact: revoke --cascade walks them); every artifact
 * and channel head at once for the daily lifecycle run (Scan filtered on `type`, LIFECYCLE_SCAN). An artifact's
 * revocation and retirement are attributes of its item (`revoked`, `retirement`, JSON), set by UpdateItem and
 * kept by the pipeline's writes (ARTIFACT_PUT_CONDITION). Names are URI-encoded in keys, so `#` in a build name cannot
 * forge another key.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import type {
  Artifact,
  ArtifactContent,
  ArtifactParent,
  ArtifactRetirement,
  ArtifactRevocation,
  ArtifactSource,
} from '../core/image-registry/artifact.ts';
import type { ChannelChange, ChannelRef, ChannelState } from '../core/image-registry/channels.ts';
import { STORE_LAYOUT } from './store-layout.ts';
import { TEMPLATE_SUFFIXES } from './trigger-contract.ts';

export const REGISTRY_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  templateIndex: { name: 'byTemplate', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
} as const;

/** The environment variable the CLI reads the table name from (`--table` overrides it). */
export const REGISTRY_TABLE_ENV = 'KILN_REGISTRY_TABLE';

type Item = Record<string, AttributeValue>;
type Key = { pk: AttributeValue; sk: AttributeValue };
const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });
const enc = encodeURIComponent;

export const artifactKey = (artifactId: string): Key => ({ pk: S(`ARTIFACT#${artifactId}`), sk: S('ARTIFACT') });
export const imagePointerKey = (imageKey: string): Key => ({ pk: S(`IMAGE#${imageKey}`), sk: S('IMAGE') });
export const templatePartition = (template: string): string => `TEMPLATE#${enc(template)}`;
export const channelKey = (ref: ChannelRef): Key => ({
  pk: S(templatePartition(ref.template)),
  sk: S(`CHANNEL#${enc(ref.build)}#${enc(ref.channel)}`),
});
export const CHANNEL_PREFIX = 'CHANNEL#';
export const changePrefix = (ref: ChannelRef): string => `CHANGE#${enc(ref.build)}#${enc(ref.channel)}#`;
const changeKey = (c: ChannelChange): Key => ({
  pk: S(templatePartition(c.template)),
  sk: S(`${changePrefix(c)}${String(c.version).padStart(10, '0')}`),
});
export const childKey = (parentId: string, childId: string): Key => ({
  pk: S(`ARTIFACT#${parentId}`),
  sk: S(`${CHILD_PREFIX}${childId}`),
});
export const CHILD_PREFIX = 'CHILD#';
export const artifactPartition = (artifactId: string): string => `ARTIFACT#${artifactId}`;
/** gsi1sk prefix of one build's artifacts; `ARTIFACT#` alone selects all of the template's. */
export const artifactIndexPrefix = (build?: string): string =>
  build === undefined ? 'ARTIFACT#' : `ARTIFACT#${enc(build)}#`;

// Content, source and parent are stored as JSON text: nested, read back through one schema, never queried.
const contentSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('ami'),
    images: z.array(z.object({ region: z.string(), imageId: z.string(), snapshotIds: z.array(z.string()) })),
  }),
  z.object({ kind: z.literal('container-image'), imageUri: z.string(), digest: z.string() }),
  z.object({ kind: z.literal('agent'), files: z.array(z.object({ name: z.string(), location: z.string() })) }),
]);
const sourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ami'), region: z.string(), imageId: z.string() }),
  z.object({ kind: z.literal('image'), reference: z.string(), digest: z.optional(z.string()) }),
]);
const parentSchema = z.object({ artifactId: z.string(), template: z.string(), build: z.string() });
const revokedSchema = z.object({
  at: z.string(),
  by: z.string(),
  reason: z.string(),
  cascadedFrom: z.optional(z.string()),
});
const retirementSchema = z.object({
  deprecatedAt: z.string(),
  retiredAt: z.optional(z.string()),
  note: z.optional(z.string()),
});

export function artifactItem(a: Artifact): Item {
  return {
    ...artifactKey(a.artifactId),
    [REGISTRY_TABLE.templateIndex.partitionKey]: S(templatePartition(a.template)),
    [REGISTRY_TABLE.templateIndex.sortKey]: S(`${artifactIndexPrefix(a.build)}${a.createdAt}#${a.artifactId}`),
    type: S('artifact'),
    artifactId: S(a.artifactId),
    template: S(a.template),
    build: S(a.build),
    buildId: S(a.buildId),
    createdAt: S(a.createdAt),
    kind: S(a.content.kind),
    content: S(JSON.stringify(a.content)),
    ...(a.source ? { source: S(JSON.stringify(a.source)) } : {}),
    ...(a.parent ? { parent: S(JSON.stringify(a.parent)) } : {}),
    ...(a.revoked ? { revoked: S(JSON.stringify(a.revoked)) } : {}),
    ...(a.retirement ? { retirement: S(JSON.stringify(a.retirement)) } : {}),
  };
}

/**
 * The pipeline's put of an artifact (a Finalize retry rewrites the same record) must not wipe a revoke or a
 * lifecycle step that happened in between: it applies only while neither is recorded. Otherwise the record is
 * already there, with the same content (the id derives from execution and build), and is left as it is.
 */
export const ARTIFACT_PUT_CONDITION = 'attribute_not_exists(revoked) AND attribute_not_exists(retirement)';

/** Marks an artifact revoked, once (a second revoke keeps the first record of who and why). */
export function revokeUpdate(artifactId: string, revoked: ArtifactRevocation) {
  return {
    Key: artifactKey(artifactId),
    UpdateExpression: 'SET revoked = :revoked',
    ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revoked)',
    ExpressionAttributeValues: { ':revoked': S(JSON.stringify(revoked)) },
  };
}

/**
 * Records a lifecycle step. Deprecation is recorded once (its time starts the grace period, so a re-run must not
 * move it); retirement replaces it with the retired form, which keeps `deprecatedAt`.
 */
export function retirementUpdate(artifactId: string, retirement: ArtifactRetirement) {
  const first = retirement.retiredAt === undefined;
  return {
    Key: artifactKey(artifactId),
    UpdateExpression: 'SET retirement = :retirement',
    ConditionExpression: first ? 'attribute_exists(pk) AND attribute_not_exists(retirement)' : 'attribute_exists(pk)',
    ExpressionAttributeValues: { ':retirement': S(JSON.stringify(retirement)) },
  };
}

export function childItem(parentId: string, childId: string): Item {
  return { ...childKey(parentId, childId), type: S('child'), artifactId: S(childId) };
}

export function parseChild(item: Item): string {
  return z.object({ artifactId: str }).parse(item).artifactId.S;
}

/** The lifecycle run's Scan: artifacts and channel heads only (pointers and history are not needed). */
export const LIFECYCLE_SCAN = {
  FilterExpression: '#type IN (:artifact, :channel)',
  ExpressionAttributeNames: { '#type': 'type' },
  ExpressionAttributeValues: { ':artifact': S('artifact'), ':channel': S('channel') },
} as const;

/** Which item a scanned one is (the `type` attribute every item carries). */
export function itemType(item: Item): string | undefined {
  return item.type?.S;
}

const str = z.object({ S: z.string() });
const num = z.object({ N: z.string() });
const artifactItemSchema = z.object({
  artifactId: str,
  template: str,
  build: str,
  buildId: str,
  createdAt: str,
  content: str,
  source: z.optional(str),
  parent: z.optional(str),
  revoked: z.optional(str),
  retirement: z.optional(str),
});

/** A stored item back as an Artifact; an item that is not one throws with the zod issue. */
export function parseArtifact(item: Item): Artifact {
  const i = artifactItemSchema.parse(item);
  const content: ArtifactContent = contentSchema.parse(JSON.parse(i.content.S));
  const source: ArtifactSource | undefined = i.source ? sourceSchema.parse(JSON.parse(i.source.S)) : undefined;
  const parent: ArtifactParent | undefined = i.parent ? parentSchema.parse(JSON.parse(i.parent.S)) : undefined;
  const revoked: ArtifactRevocation | undefined = i.revoked ? revokedSchema.parse(JSON.parse(i.revoked.S)) : undefined;
  const retirement: ArtifactRetirement | undefined = i.retirement
    ? retirementSchema.parse(JSON.parse(i.retirement.S))
    : undefined;
  return {
    artifactId: i.artifactId.S,
    template: i.template.S,
    build: i.build.S,
    buildId: i.buildId.S,
    createdAt: i.createdAt.S,
    content,
    ...(source ? { source } : {}),
    ...(parent ? { parent } : {}),
    ...(revoked ? { revoked } : {}),
    ...(retirement ? { retirement } : {}),
  };
}

export function imagePointerItem(imageKey: string, artifactId: string): Item {
  return { ...imagePointerKey(imageKey), type: S('image'), artifactId: S(artifactId) };
}

export function parseImagePointer(item: Item): string {
  return z.object({ artifactId: str }).parse(item).artifactId.S;
}

export function channelItem(s: ChannelState): Item {
  return {
    ...channelKey(s),
    type: S('channel'),
    template: S(s.template),
    build: S(s.build),
    channel: S(s.channel),
    version: N(s.version),
    ...(s.current === undefined ? {} : { current: S(s.current) }),
    previous: { L: s.previous.map(S) },
    ...(s.updatedAt === undefined ? {} : { updatedAt: S(s.updatedAt) }),
  };
}

const channelItemSchema = z.object({
  template: str,
  build: str,
  channel: str,
  version: num,
  current: z.optional(str),
  previous: z.object({ L: z.array(str) }),
  updatedAt: z.optional(str),
});

export function parseChannel(item: Item): ChannelState {
  const i = channelItemSchema.parse(item);
  return {
    template: i.template.S,
    build: i.build.S,
    channel: i.channel.S,
    version: Number(i.version.N),
    ...(i.current ? { current: i.current.S } : {}),
    previous: i.previous.L.map((p) => p.S),
    ...(i.updatedAt ? { updatedAt: i.updatedAt.S } : {}),
  };
}

export function changeItem(c: ChannelChange): Item {
  return {
    ...changeKey(c),
    type: S('channel-change'),
    template: S(c.template),
    build: S(c.build),
    channel: S(c.channel),
    version: N(c.version),
    action: S(c.action),
    artifactId: S(c.artifactId),
    ...(c.replaced === undefined ? {} : { replaced: S(c.replaced) }),
    at: S(c.at),
  };
}

const changeItemSchema = z.object({
  template: str,
  build: str,
  channel: str,
  version: num,
  action: z.object({ S: z.enum(['promote', 'rollback']) }),
  artifactId: str,
  replaced: z.optional(str),
  at: str,
});

export function parseChange(item: Item): ChannelChange {
  const i = changeItemSchema.parse(item);
  return {
    template: i.template.S,
    build: i.build.S,
    channel: i.channel.S,
    version: Number(i.version.N),
    action: i.action.S,
    artifactId: i.artifactId.S,
    ...(i.replaced ? { replaced: i.replaced.S } : {}),
    at: i.at.S,
  };
}

/**
 * The condition that makes a channel write optimistic: the head is still at the version the transition was
 * computed from (absent for version 0). A change item is never overwritten.
 */
export function channelWriteCondition(expectedVersion: number): {
  ConditionExpression: string;
  ExpressionAttributeValues?: Item;
} {
  return expectedVersion === 0
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': N(expectedVersion) } };
}
export const CHANGE_WRITE_CONDITION = 'attribute_not_exists(pk)';

/**
 * A pipeline build's template name in the registry: its key in the template bucket without the templates prefix
 * and the template suffix (`templates/team/web.pkr.hcl` → `team/web`), so that `kiln channels ... team/web` and
 * the parameter `/kiln/team-web/...` name it the same way whichever format is uploaded. The bucket is not part of
 * it: a stack has one template bucket.
 */
export function registryTemplateName(templateKey: string): string {
  const relative = templateKey.startsWith(STORE_LAYOUT.templatesPrefix)
    ? templateKey.slice(STORE_LAYOUT.templatesPrefix.length)
    : templateKey;
  // The longest suffix that matches (`.pkr.json` before `.json`), and never the whole name.
  const suffix = [...TEMPLATE_SUFFIXES]
    .sort((a, b) => b.length - a.length)
    .find((s) => relative.endsWith(s) && relative.length > s.length);
  return suffix ? relative.slice(0, -suffix.length) : relative;
}
