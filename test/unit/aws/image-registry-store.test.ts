/**
 * The store's paths the emulator cannot force in order: a promote that loses the race reads again and lands on
 * top, one that keeps losing gives up with Conflict, and a parameter overwritten by a slower writer is
 * published again from the stored head. moto covers the same calls for real (test/integration/image-registry).
 */
import {
  DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { artifactItem, artifactKey, channelItem } from '../../../aws/image-registry-records.ts';
import {
  CHANNEL_WRITE_ATTEMPTS,
  promoteChannel,
  publishChannel,
  type RegistryContext,
} from '../../../aws/image-registry-store.ts';
import type { Artifact } from '../../../core/image-registry/artifact.ts';
import { type ChannelState, emptyChannel, promote } from '../../../core/image-registry/channels.ts';
import { RegistryError } from '../../../core/image-registry/errors.ts';
import { amiArtifact } from '../image-registry/fixtures.ts';

const ref = { template: 'web', build: 'amazon-ebs.base', channel: 'prod' };
const ddb = mockClient(DynamoDBClient);
const ssm = mockClient(SSMClient);
let ctx: RegistryContext;

const conflict = () =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
  });

/** GetItem answers: artifacts by id, and the channel head from a queue (each read takes the next state). */
function serve(artifacts: readonly Artifact[], heads: ChannelState[]) {
  ddb.on(GetItemCommand).callsFake((input: { Key: Record<string, { S?: string }> }) => {
    const pk = input.Key.pk?.S ?? '';
    const artifact = artifacts.find((a) => artifactKey(a.artifactId).pk.S === pk);
    if (artifact) return { Item: artifactItem(artifact) };
    const head = heads.length > 1 ? heads.shift() : heads[0];
    return head && head.version > 0 ? { Item: channelItem(head) } : {};
  });
}

beforeEach(() => {
  ddb.reset();
  ssm.reset();
  ssm.on(PutParameterCommand).resolves({ Version: 1 });
  ctx = {
    dynamo: new DynamoDBClient({ region: 'us-east-1' }),
    table: 't',
    ssm: () => new SSMClient({ region: 'us-east-1' }),
    homeRegion: 'us-east-1',
    now: () => new Date('2026-03-01T00:00:00.000Z'),
  };
});

describe('image registry store', () => {
  const a = amiArtifact({ images: [['us-east-1', 'ami-0000a001']] });
  const b = amiArtifact({ images: [['us-east-1', 'ami-0000b001']] });
  const c = amiArtifact({ images: [['us-east-1', 'ami-0000c001']] });
  const AT = '2026-02-01T00:00:00.000Z';

  it('reads again after losing the race and applies the promotion on top of the winner', async () => {
    const empty = emptyChannel(ref);
    const winner = promote(empty, a, AT).state;
    const mine = promote(winner, b, '2026-03-01T00:00:00.000Z').state;
    serve([a, b], [empty, winner, mine]);
    ddb.on(TransactWriteItemsCommand).rejectsOnce(conflict()).resolves({});
    const update = await promoteChannel(ctx, ref, b.artifactId);
    expect(update.state).toMatchObject({ version: 2, current: b.artifactId, previous: [a.artifactId] });
    const writes = ddb.commandCalls(TransactWriteItemsCommand);
    expect(writes).toHaveLength(2);
    // The second attempt is conditioned on the winner's version.
    const head = writes[1]?.args[0].input.TransactItems?.[0]?.Put;
    expect(head?.ConditionExpression).toBe('version = :expected');
    expect(head?.ExpressionAttributeValues).toEqual({ ':expected': { N: '1' } });
    expect(ssm.commandCalls(PutParameterCommand).map((x) => x.args[0].input.Value)).toEqual(['ami-0000b001']);
  });

  it(`gives up with Conflict after ${CHANNEL_WRITE_ATTEMPTS} lost races, publishing nothing`, async () => {
    serve([a], [emptyChannel(ref)]);
    ddb.on(TransactWriteItemsCommand).rejects(conflict());
    const err = await promoteChannel(ctx, ref, a.artifactId).catch((e: unknown) => e);
    expect((err as RegistryError).code).toBe('Conflict');
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(CHANNEL_WRITE_ATTEMPTS);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('lets other transaction failures through unchanged', async () => {
    serve([a], [emptyChannel(ref)]);
    const throttled = new TransactionCanceledException({
      message: 'x',
      $metadata: {},
      CancellationReasons: [{ Code: 'ThrottlingError' }],
    });
    ddb.on(TransactWriteItemsCommand).rejects(throttled);
    const err = await promoteChannel(ctx, ref, a.artifactId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionCanceledException);
    expect(err).not.toBeInstanceOf(RegistryError);
  });

  it('publishes the stored head again when another writer moved the channel during its publication', async () => {
    const one = promote(emptyChannel(ref), a, AT).state;
    const two = promote(one, b, AT).state;
    const three = promote(two, c, AT).state;
    // Ours is version 2; the re-read finds 3 (published by its writer, possibly before ours landed), then 3 again.
    serve([a, b, c], [three]);
    const parameters = await publishChannel(ctx, two);
    expect(ssm.commandCalls(PutParameterCommand).map((x) => x.args[0].input.Value)).toEqual([
      'ami-0000b001',
      'ami-0000c001',
    ]);
    expect(parameters.map((p) => p.value)).toEqual(['ami-0000c001']);
    const put = ssm.commandCalls(PutParameterCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ Type: 'String', DataType: 'aws:ec2:image', Overwrite: true });
  });
});
