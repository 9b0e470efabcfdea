/**
 * The image registry's reads and writes: artifacts (with their lineage), channels (promote, rollback, history)
 * and the SSM parameter each channel publishes. The CLI, and later the pipeline, go through these functions;
 * item forms are image-registry-records.ts's, decisions are core/image-registry's.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import {
  type Artifact,
  type ArtifactRetirement,
  assertArtifact,
  imageKeysOf,
  sourceKeyOf,
} from '../core/image-registry/artifact.ts';
import {
  type ChannelChange,
  type ChannelRef,
  type ChannelState,
  type ChannelTransition,
  emptyChannel,
  promote,
  rollback,
  rollbackTarget,
} from '../core/image-registry/channels.ts';
import { RegistryError } from '../core/image-registry/errors.ts';
import { byNewest, linkParent } from '../core/image-registry/lineage.ts';
import { type ChannelParameter, channelParameters } from '../core/image-registry/parameter.ts';
import { descendantsOf, revocationOf } from '../core/image-registry/revocation.ts';
import {
  ARTIFACT_PUT_CONDITION,
  artifactIndexPrefix,
  artifactItem,
  artifactKey,
  artifactPartition,
  CHANGE_WRITE_CONDITION,
  CHANNEL_PREFIX,
  CHILD_PREFIX,
  changeItem,
  changePrefix,
  channelItem,
  channelKey,
  channelWriteCondition,
  childItem,
  imagePointerItem,
  imagePointerKey,
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
  templatePartition,
} from './image-registry-records.ts';

export interface RegistryContext {
  readonly dynamo: DynamoDBClient;
  readonly table: string;
  /** The SSM client of a region (channel parameters go to every region an AMI artifact has an image in). */
  readonly ssm: (region: string) => SSMClient;
  /** Where parameters of non-AMI artifacts go: the registry table's region. */
  readonly homeRegion: string;
  readonly now?: () => Date;
}

/** How often a promote or rollback reads again after another writer moved the channel first. */
export const CHANNEL_WRITE_ATTEMPTS = 3;

const nowIso = (ctx: RegistryContext) => (ctx.now?.() ?? new Date()).toISOString();

export async function getArtifact(ctx: RegistryContext, artifactId: string): Promise<Artifact | undefined> {
  const out = await ctx.dynamo.send(new GetItemCommand({ TableName: ctx.table, Key: artifactKey(artifactId) }));
  return out.Item ? parseArtifact(out.Item) : undefined;
}

export async function requireArtifact(ctx: RegistryContext, artifactId: string): Promise<Artifact> {
  const artifact = await getArtifact(ctx, artifactId);
  if (!artifact) {
    throw new RegistryError('NotFound', `no artifact ${artifactId} (see \`kiln artifacts list <template>\`)`);
  }
  return artifact;
}

/** The Kiln artifact that holds this AMI id or image digest, if Kiln built it. */
export async function findArtifactByImage(ctx: RegistryContext, imageKey: string): Promise<Artifact | undefined> {
  const out = await ctx.dynamo.send(
    new GetItemCommand({ TableName: ctx.table, Key: imagePointerKey(imageKey), ConsistentRead: true }),
  );
  return out.Item ? getArtifact(ctx, parseImagePointer(out.Item)) : undefined;
}

/**
 * Records an artifact, its parent found by its source, a pointer per AMI id or digest (so builds started from it
 * find it) and, with a parent, a child pointer under the parent (so revoke --cascade finds it), in one
 * transaction. Idempotent: the id derives from execution and build, so a retry writes the same items. A digest two
 * builds share points at the later record. A record already revoked or touched by lifecycle is kept as stored
 * (ARTIFACT_PUT_CONDITION) and returned: a retried Finalize must not undo either.
 */
export async function putArtifact(ctx: RegistryContext, artifact: Artifact): Promise<Artifact> {
  assertArtifact(artifact);
  const { revoked: _r, retirement: _l, ...fresh } = artifact;
  const key = fresh.source ? sourceKeyOf(fresh.source) : undefined;
  const candidate = key === undefined ? undefined : await findArtifactByImage(ctx, key);
  const linked = linkParent(fresh, candidate);
  const others = [
    ...imageKeysOf(linked.content).map((k) => imagePointerItem(k, linked.artifactId)),
    ...(linked.parent ? [childItem(linked.parent.artifactId, linked.artifactId)] : []),
  ];
  // TransactWriteItems takes 100 items: an AMI in every region is about 30.
  try {
    await ctx.dynamo.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: ctx.table, Item: artifactItem(linked), ConditionExpression: ARTIFACT_PUT_CONDITION } },
          ...others.map((Item) => ({ Put: { TableName: ctx.table, Item } })),
        ],
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) return requireArtifact(ctx, linked.artifactId);
    throw error;
  }
  return linked;
}

function isConditionFailure(error: unknown): boolean {
  return (
    (error instanceof TransactionCanceledException &&
      (error.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed')) ||
    error instanceof ConditionalCheckFailedException
  );
}

/** The ids of the artifacts built from this one (their lineage parent is it), in id order. */
export async function childrenOf(ctx: RegistryContext, artifactId: string): Promise<string[]> {
  const items = await queryAll(ctx, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': { S: artifactPartition(artifactId) }, ':prefix': { S: CHILD_PREFIX } },
    ConsistentRead: true,
  });
  return items.map(parseChild);
}

/** One artifact a revoke reached: `alreadyRevoked` when an earlier revoke had marked it (its record is kept). */
export interface RevokedArtifact {
  readonly artifact: Artifact;
  readonly alreadyRevoked: boolean;
}

/**
 * Marks an artifact revoked and, with `cascade`, every descendant (children through child pointers,
 * transitively); descendants record `cascadedFrom`. Returns every artifact reached, root first: the caller
 * deprecates their images (aws/image-retirement.ts) and is where a `Kiln Artifact Revoked` event belongs.
 * Idempotent: an artifact already revoked keeps its first record and is reported `alreadyRevoked`.
 */
export async function revokeArtifacts(
  ctx: RegistryContext,
  artifactId: string,
  request: { readonly by: string; readonly reason: string; readonly cascade: boolean },
): Promise<RevokedArtifact[]> {
  const at = nowIso(ctx);
  const root = await requireArtifact(ctx, artifactId);
  revocationOf(request.by, request.reason, at);
  const ids = [
    root.artifactId,
    ...(request.cascade ? await descendantsOf(root.artifactId, (id) => childrenOf(ctx, id)) : []),
  ];
  const out: RevokedArtifact[] = [];
  for (const id of ids) {
    const revoked = revocationOf(request.by, request.reason, at, id === root.artifactId ? undefined : root.artifactId);
    try {
      await ctx.dynamo.send(new UpdateItemCommand({ TableName: ctx.table, ...revokeUpdate(id, revoked) }));
      out.push({ artifact: await requireArtifact(ctx, id), alreadyRevoked: false });
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Revoked before (or a child pointer whose artifact is gone: requireArtifact says so).
      out.push({ artifact: await requireArtifact(ctx, id), alreadyRevoked: true });
    }
  }
  return out;
}

/**
 * Records a lifecycle step on an artifact (retirementUpdate): a deprecation only once (false when one was already
 * recorded, whose time stands), a retirement always.
 */
export async function recordRetirement(
  ctx: RegistryContext,
  artifactId: string,
  retirement: ArtifactRetirement,
): Promise<boolean> {
  try {
    await ctx.dynamo.send(new UpdateItemCommand({ TableName: ctx.table, ...retirementUpdate(artifactId, retirement) }));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Every artifact and channel head of the registry (one Scan, paged): the lifecycle run's input. */
export async function scanRegistry(ctx: RegistryContext): Promise<{ artifacts: Artifact[]; channels: ChannelState[] }> {
  const artifacts: Artifact[] = [];
  const channels: ChannelState[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await ctx.dynamo.send(
      new ScanCommand({
        TableName: ctx.table,
        ...LIFECYCLE_SCAN,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of out.Items ?? []) {
      if (itemType(item) === 'artifact') artifacts.push(parseArtifact(item));
      else if (itemType(item) === 'channel') channels.push(parseChannel(item));
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return { artifacts, channels };
}

async function queryAll(ctx: RegistryContext, input: Omit<QueryCommand['input'], 'TableName'>) {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await ctx.dynamo.send(
      new QueryCommand({ ...input, TableName: ctx.table, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** A template's artifacts (or one build's), newest first. Read from the index: a just-written one may lag. */
export async function listArtifacts(ctx: RegistryContext, template: string, build?: string): Promise<Artifact[]> {
  const { name, partitionKey, sortKey } = REGISTRY_TABLE.templateIndex;
  const items = await queryAll(ctx, {
    IndexName: name,
    KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
    ExpressionAttributeNames: { '#pk': partitionKey, '#sk': sortKey },
    ExpressionAttributeValues: {
      ':pk': { S: templatePartition(template) },
      ':prefix': { S: artifactIndexPrefix(build) },
    },
  });
  return items.map(parseArtifact).sort(byNewest);
}

/** The channel as stored (consistent read), or never assigned. */
export async function getChannel(ctx: RegistryContext, ref: ChannelRef): Promise<ChannelState> {
  const out = await ctx.dynamo.send(
    new GetItemCommand({ TableName: ctx.table, Key: channelKey(ref), ConsistentRead: true }),
  );
  return out.Item ? parseChannel(out.Item) : emptyChannel(ref);
}

export async function listChannels(ctx: RegistryContext, template: string): Promise<ChannelState[]> {
  const items = await queryAll(ctx, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': { S: templatePartition(template) }, ':prefix': { S: CHANNEL_PREFIX } },
    ConsistentRead: true,
  });
  return items.map(parseChannel);
}

/** Every change of a channel, oldest first. */
export async function channelHistory(ctx: RegistryContext, ref: ChannelRef): Promise<ChannelChange[]> {
  const items = await queryAll(ctx, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': { S: templatePartition(ref.template) }, ':prefix': { S: changePrefix(ref) } },
    ConsistentRead: true,
  });
  return items.map(parseChange);
}

/**
 * Writes a transition computed from the state at `expectedVersion`: the head only if it is still at that
 * version, and the change item, together. Another writer in between makes it throw `Conflict` and write nothing.
 */
export async function writeTransition(
  ctx: RegistryContext,
  expectedVersion: number,
  transition: ChannelTransition,
): Promise<void> {
  if (!transition.change) return;
  try {
    await ctx.dynamo.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: ctx.table,
              Item: channelItem(transition.state),
              ...channelWriteCondition(expectedVersion),
            },
          },
          {
            Put: {
              TableName: ctx.table,
              Item: changeItem(transition.change),
              ConditionExpression: CHANGE_WRITE_CONDITION,
            },
          },
        ],
      }),
    );
  } catch (error) {
    const conditional =
      error instanceof TransactionCanceledException &&
      (error.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
    if (conditional) {
      const s = transition.state;
      throw new RegistryError(
        'Conflict',
        `channel ${s.channel} of ${s.template} ${s.build} changed since it was read (version ${expectedVersion}); ` +
          'read it again and retry',
      );
    }
    throw error;
  }
}

export interface ChannelUpdate {
  readonly state: ChannelState;
  readonly change?: ChannelChange;
  readonly parameters: readonly ChannelParameter[];
}

async function changeChannel(
  ctx: RegistryContext,
  ref: ChannelRef,
  step: (state: ChannelState, at: string) => ChannelTransition | Promise<ChannelTransition>,
): Promise<ChannelUpdate> {
  for (let attempt = 1; ; attempt++) {
    const state = await getChannel(ctx, ref);
    const transition = await step(state, nowIso(ctx));
    try {
      await writeTransition(ctx, state.version, transition);
    } catch (error) {
      // Another promote or rollback landed first: apply ours to the state it left (both are then in history).
      if (error instanceof RegistryError && error.code === 'Conflict' && attempt < CHANNEL_WRITE_ATTEMPTS) continue;
      throw error;
    }
    const parameters = await publishChannel(ctx, transition.state);
    return { ...transition, parameters };
  }
}

/** Assigns an artifact to a channel and publishes it. The artifact must be one of the channel's build. */
export async function promoteChannel(
  ctx: RegistryContext,
  ref: ChannelRef,
  artifactId: string,
): Promise<ChannelUpdate> {
  const artifact = await requireArtifact(ctx, artifactId);
  return changeChannel(ctx, ref, (state, at) => promote(state, artifact, at));
}

/**
 * Returns a channel to its previous assignment and publishes it. A revoked or retired previous assignment is
 * refused (channels.ts rollback says why and what to do).
 */
export async function rollbackChannel(ctx: RegistryContext, ref: ChannelRef): Promise<ChannelUpdate> {
  return changeChannel(ctx, ref, async (state, at) => {
    const id = rollbackTarget(state);
    return rollback(state, at, id === undefined ? undefined : await getArtifact(ctx, id));
  });
}

async function putParameters(ctx: RegistryContext, parameters: readonly ChannelParameter[]): Promise<void> {
  const put = (p: ChannelParameter) =>
    new PutParameterCommand({ Name: p.name, Value: p.value, Type: 'String', DataType: p.dataType, Overwrite: true });
  await Promise.all(parameters.map((p) => ctx.ssm(p.region).send(put(p))));
}

/**
 * Writes the channel's SSM parameter(s) for `state`, then reads the channel again: when another writer moved it
 * meanwhile, its value may have been overwritten by ours, so the newer state is published again (a bounded
 * loop: every writer ends by publishing what it last read, so the parameter converges on the stored head).
 */
export async function publishChannel(ctx: RegistryContext, state: ChannelState): Promise<ChannelParameter[]> {
  let published = state;
  let parameters: ChannelParameter[] = [];
  for (let attempt = 0; attempt < CHANNEL_WRITE_ATTEMPTS; attempt++) {
    if (published.current === undefined) return [];
    parameters = channelParameters(published, await requireArtifact(ctx, published.current), ctx.homeRegion);
    await putParameters(ctx, parameters);
    const stored = await getChannel(ctx, published);
    if (stored.version <= published.version) break;
    published = stored;
  }
  return parameters;
}
