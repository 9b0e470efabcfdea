/**
 * `kiln channels promote | rollback | list` and `kiln artifacts list`: the image registry from the command line,
 * through aws/image-registry-store.ts. The table comes from `--table` or KILN_REGISTRY_TABLE, the region from
 * `--region` or the AWS environment; tables for people, `--json` for scripts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SSMClient } from '@aws-sdk/client-ssm';
import { clientConfig, homeRegion } from '../aws/clients.ts';
import { describeFailures, type EventSink, eventSinkFor } from '../aws/events-emitter.ts';
import { REGISTRY_TABLE_ENV } from '../aws/image-registry-records.ts';
import {
  type ChannelUpdate,
  listArtifacts,
  listChannels,
  promoteChannel,
  type RegistryContext,
  rollbackChannel,
} from '../aws/image-registry-store.ts';
import { type Artifact, describeContent } from '../core/image-registry/artifact.ts';
import type { ChannelRef } from '../core/image-registry/channels.ts';
import { RegistryError } from '../core/image-registry/errors.ts';
import { isOutdated } from '../core/image-registry/lineage.ts';
import { channelParameterName } from '../core/image-registry/parameter.ts';
import type { CliIO } from './io.ts';
import { renderTable } from './table.ts';

export interface RegistryOptions {
  readonly table?: string;
  readonly region?: string;
  readonly json: boolean;
}

/** The AWS clients of a region; tests pass clients for the emulator. */
export interface RegistryClients {
  readonly dynamo: DynamoDBClient;
  readonly ssm: (region: string) => SSMClient;
  /** `Kiln Channel Updated` after a promote or rollback (the default bus of the table's region); absent: none. */
  readonly events?: EventSink;
}
export type RegistryConnect = (region: string) => RegistryClients;

/** Clients from the environment (credentials, `AWS_ENDPOINT_URL`), with Kiln's retry budget. */
export const connectFromEnvironment: RegistryConnect = (region) => {
  const ssm = new Map<string, SSMClient>();
  return {
    dynamo: new DynamoDBClient(clientConfig(region)),
    events: eventSinkFor(new EventBridgeClient(clientConfig(region))),
    ssm: (r) => {
      let client = ssm.get(r);
      if (!client) {
        client = new SSMClient(clientConfig(r));
        ssm.set(r, client);
      }
      return client;
    },
  };
};

function context(options: RegistryOptions, io: CliIO, connect: RegistryConnect): RegistryContext | string {
  const table = options.table ?? io.env[REGISTRY_TABLE_ENV];
  if (!table) {
    return `no registry table: pass --table <name> or set ${REGISTRY_TABLE_ENV} (the stack's RegistryTableName output)`;
  }
  const region = options.region ?? homeRegion(io.env as NodeJS.ProcessEnv);
  const clients = connect(region);
  return {
    dynamo: clients.dynamo,
    ssm: clients.ssm,
    table,
    homeRegion: region,
    now: io.now,
    ...(clients.events ? { events: clients.events } : {}),
    origin: { by: 'cli' },
  };
}

/** Runs a registry command: usage and registry errors become `Error: …` on stderr and exit code 1. */
async function run(
  options: RegistryOptions,
  io: CliIO,
  connect: RegistryConnect,
  body: (ctx: RegistryContext) => Promise<void>,
): Promise<number> {
  const ctx = context(options, io, connect);
  if (typeof ctx === 'string') {
    io.err(`Error: ${ctx}\n`);
    return 1;
  }
  try {
    await body(ctx);
    return 0;
  } catch (error) {
    if (error instanceof RegistryError) {
      io.err(`Error: ${error.message}\n`);
      return 1;
    }
    const aws = awsErrorMessage(error, ctx);
    if (aws) {
      io.err(`Error: ${aws}\n`);
      return 1;
    }
    throw error;
  }
}

/** An AWS failure as one line that says what to check; undefined for anything else (a bug: let it throw). */
export function awsErrorMessage(error: unknown, ctx: RegistryContext): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'ResourceNotFoundException') {
    return `table ${ctx.table} was not found in ${ctx.homeRegion}: check --table and --region (or ${REGISTRY_TABLE_ENV})`;
  }
  if (error.name === 'CredentialsProviderError') {
    return `no AWS credentials: ${error.message} (set AWS_PROFILE or AWS_ACCESS_KEY_ID, as for the AWS CLI)`;
  }
  if (error.name === 'AccessDeniedException' || error.name === 'UnrecognizedClientException') {
    return `AWS refused the call (${error.name}): ${error.message}`;
  }
  if ('$metadata' in error) return `AWS ${error.name}: ${error.message}`;
  return undefined;
}

function reportUpdate(update: ChannelUpdate, verb: string, options: RegistryOptions, io: CliIO): void {
  // The change is made and published; an event EventBridge refused is said, never a failure of the command.
  for (const line of describeFailures(update.events?.failed ?? [])) {
    io.err(`Warning: the event was not delivered (${line}); the channel did change\n`);
  }
  if (options.json) {
    io.out(
      `${JSON.stringify({ channel: update.state, change: update.change ?? null, parameters: update.parameters, events: update.events ?? null }, null, 2)}\n`,
    );
    return;
  }
  const s = update.state;
  io.out(
    update.change
      ? `${verb} ${s.template} ${s.build} ${s.channel}: ${update.change.replaced ?? '(none)'} → ${s.current} (version ${s.version})\n`
      : `${s.template} ${s.build} ${s.channel} already holds ${s.current}; nothing changed (parameter published again)\n`,
  );
  for (const p of update.parameters) io.out(`  ${p.region}  ${p.name} = ${p.value} (${p.dataType})\n`);
}

export function runChannelsPromote(
  args: ChannelRef & { readonly artifact: string },
  options: RegistryOptions,
  io: CliIO,
  connect: RegistryConnect = connectFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async (ctx) => {
    reportUpdate(await promoteChannel(ctx, args, args.artifact), 'Promoted', options, io);
  });
}

export function runChannelsRollback(
  ref: ChannelRef,
  options: RegistryOptions,
  io: CliIO,
  connect: RegistryConnect = connectFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async (ctx) => {
    reportUpdate(await rollbackChannel(ctx, ref), 'Rolled back', options, io);
  });
}

export function runChannelsList(
  template: string,
  options: RegistryOptions,
  io: CliIO,
  connect: RegistryConnect = connectFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async (ctx) => {
    const channels = (await listChannels(ctx, template)).sort(
      (a, b) => a.build.localeCompare(b.build) || a.channel.localeCompare(b.channel),
    );
    if (options.json) {
      const rows = channels.map((c) => ({ ...c, parameter: channelParameterName(c) }));
      io.out(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (channels.length === 0) {
      io.out(`No channels for ${template} (kiln channels promote ${template} <build> <channel> <artifact>).\n`);
      return;
    }
    io.out(
      renderTable(
        ['BUILD', 'CHANNEL', 'ARTIFACT', 'VERSION', 'ROLLBACK TO', 'UPDATED', 'PARAMETER'],
        channels.map((c) => [
          c.build,
          c.channel,
          c.current ?? '-',
          String(c.version),
          c.previous.at(-1) ?? '-',
          c.updatedAt ?? '-',
          channelParameterName(c),
        ]),
      ),
    );
  });
}

export function runArtifactsList(
  template: string,
  options: RegistryOptions & { readonly build?: string },
  io: CliIO,
  connect: RegistryConnect = connectFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async (ctx) => {
    const artifacts = await listArtifacts(ctx, template, options.build);
    // Each parent build's versions are read once, however many artifacts descend from it.
    const versions = new Map<string, Promise<Artifact[]>>();
    const outdated = await Promise.all(
      artifacts.map(async (a) => {
        if (!a.parent) return false;
        const key = JSON.stringify([a.parent.template, a.parent.build]);
        let v = versions.get(key);
        if (!v) {
          v = listArtifacts(ctx, a.parent.template, a.parent.build);
          versions.set(key, v);
        }
        return isOutdated(a, await v);
      }),
    );
    if (options.json) {
      io.out(
        `${JSON.stringify(
          artifacts.map((a, i) => ({ ...a, outdated: outdated[i] })),
          null,
          2,
        )}\n`,
      );
      return;
    }
    if (artifacts.length === 0) {
      io.out(`No artifacts for ${template}${options.build ? ` ${options.build}` : ''}.\n`);
      return;
    }
    io.out(
      renderTable(
        ['ARTIFACT', 'BUILD', 'CREATED', 'KIND', 'CONTENT', 'PARENT'],
        artifacts.map((a, i) => [
          a.artifactId,
          a.build,
          a.createdAt,
          a.content.kind,
          describeContent(a.content),
          a.parent ? `${a.parent.artifactId}${outdated[i] ? ' (outdated)' : ''}` : '-',
        ]),
      ),
    );
  });
}
