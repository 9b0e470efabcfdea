/**
 * `kiln channels promote | rollback | list` and `kiln artifacts list`: the image registry from the command line,
 * through aws/image-registry-store.ts. The table comes from `--table` or KILN_REGISTRY_TABLE, the region from
 * `--region` or the AWS environment; tables for people, `--json` for scripts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { clientConfig, homeRegion } from '../aws/clients.ts';
import { REGISTRY_TABLE_ENV } from '../aws/image-registry-records.ts';
import {
  type ChannelUpdate,
  childrenOf,
  listArtifacts,
  listChannels,
  promoteChannel,
  type RegistryContext,
  requireArtifact,
  revokeArtifacts,
  rollbackChannel,
} from '../aws/image-registry-store.ts';
import { deprecateImages } from '../aws/image-retirement.ts';
import { type Artifact, describeContent } from '../core/image-registry/artifact.ts';
import type { ChannelRef } from '../core/image-registry/channels.ts';
import { RegistryError } from '../core/image-registry/errors.ts';
import { isOutdated } from '../core/image-registry/lineage.ts';
import { channelParameterName } from '../core/image-registry/parameter.ts';
import { artifactStatus } from '../core/image-registry/revocation.ts';
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
  /** EC2 of a region: `kiln artifacts revoke` deprecates the AMIs. */
  readonly ec2?: (region: string) => EC2Client;
  /** Who is calling (recorded by revoke): the caller's ARN. */
  readonly identity?: () => Promise<string>;
}
export type RegistryConnect = (region: string) => RegistryClients;

/** Clients from the environment (credentials, `AWS_ENDPOINT_URL`), with Kiln's retry budget. */
export const connectFromEnvironment: RegistryConnect = (region) => {
  const perRegion = <C>(make: (r: string) => C) => {
    const clients = new Map<string, C>();
    return (r: string) => {
      let client = clients.get(r);
      if (!client) {
        client = make(r);
        clients.set(r, client);
      }
      return client;
    };
  };
  return {
    dynamo: new DynamoDBClient(clientConfig(region)),
    ssm: perRegion((r) => new SSMClient(clientConfig(r))),
    ec2: perRegion((r) => new EC2Client(clientConfig(r))),
    identity: async () => {
      const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
      const out = await new STSClient(clientConfig(region)).send(new GetCallerIdentityCommand({}));
      return out.Arn ?? 'unknown caller';
    },
  };
};

interface CliRegistryContext extends RegistryContext {
  readonly clients: RegistryClients;
}

function context(options: RegistryOptions, io: CliIO, connect: RegistryConnect): CliRegistryContext | string {
  const table = options.table ?? io.env[REGISTRY_TABLE_ENV];
  if (!table) {
    return `no registry table: pass --table <name> or set ${REGISTRY_TABLE_ENV} (the stack's RegistryTableName output)`;
  }
  const region = options.region ?? homeRegion(io.env as NodeJS.ProcessEnv);
  const clients = connect(region);
  return { dynamo: clients.dynamo, ssm: clients.ssm, table, homeRegion: region, now: io.now, clients };
}

/** Runs a registry command: usage and registry errors become `Error: …` on stderr and exit code 1. */
async function run(
  options: RegistryOptions,
  io: CliIO,
  connect: RegistryConnect,
  body: (ctx: CliRegistryContext) => Promise<void>,
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
  if (options.json) {
    io.out(
      `${JSON.stringify({ channel: update.state, change: update.change ?? null, parameters: update.parameters }, null, 2)}\n`,
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
          artifacts.map((a, i) => ({ ...a, outdated: outdated[i], status: artifactStatus(a, outdated[i] === true) })),
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
        ['ARTIFACT', 'BUILD', 'CREATED', 'KIND', 'CONTENT', 'PARENT', 'STATUS'],
        artifacts.map((a, i) => [
          a.artifactId,
          a.build,
          a.createdAt,
          a.content.kind,
          describeContent(a.content),
          a.parent ? `${a.parent.artifactId}${outdated[i] ? ' (outdated)' : ''}` : '-',
          artifactStatus(a, outdated[i] === true),
        ]),
      ),
    );
  });
}

/** The artifact's template and its parent's versions, read once: is it outdated (lineage.ts)? */
async function outdatedOf(ctx: RegistryContext, artifact: Artifact): Promise<boolean> {
  if (!artifact.parent) return false;
  return isOutdated(artifact, await listArtifacts(ctx, artifact.parent.template, artifact.parent.build));
}

/** Channels of the artifact's template that hold it now, or could roll back to it. */
async function channelsHolding(ctx: RegistryContext, artifact: Artifact) {
  const channels = await listChannels(ctx, artifact.template);
  return {
    current: channels.filter((c) => c.current === artifact.artifactId),
    rollback: channels.filter((c) => c.current !== artifact.artifactId && c.previous.includes(artifact.artifactId)),
  };
}

/** `kiln artifacts show <id>`: content, lineage (parent and children), channels holding it, status. */
export function runArtifactsShow(
  artifactId: string,
  options: RegistryOptions,
  io: CliIO,
  connect: RegistryConnect = connectFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async (ctx) => {
    const artifact = await requireArtifact(ctx, artifactId);
    const [outdated, children, holding] = await Promise.all([
      outdatedOf(ctx, artifact),
      childrenOf(ctx, artifact.artifactId),
      channelsHolding(ctx, artifact),
    ]);
    const status = artifactStatus(artifact, outdated);
    if (options.json) {
      io.out(
        `${JSON.stringify(
          {
            ...artifact,
            status,
            outdated,
            children,
            channels: holding.current.map((c) => ({
              build: c.build,
              channel: c.channel,
              parameter: channelParameterName(c),
            })),
            rollbackTargetOf: holding.rollback.map((c) => ({ build: c.build, channel: c.channel })),
          },
          null,
          2,
        )}\n`,
      );
      return;
    }
    const lines: [string, string][] = [
      ['Artifact', artifact.artifactId],
      ['Status', status],
      ['Template', artifact.template],
      ['Build', artifact.build],
      ['Build id', artifact.buildId],
      ['Created', artifact.createdAt],
      ['Kind', artifact.content.kind],
    ];
    if (artifact.revoked) {
      const r = artifact.revoked;
      lines.push([
        'Revoked',
        `${r.at} by ${r.by}: ${r.reason}${r.cascadedFrom ? ` (with ancestor ${r.cascadedFrom})` : ''}`,
      ]);
    }
    if (artifact.retirement) {
      const l = artifact.retirement;
      lines.push(['Deprecated', `${l.deprecatedAt} (lifecycle)`]);
      if (l.retiredAt) lines.push(['Retired', `${l.retiredAt}${l.note ? ` (${l.note})` : ''}`]);
    }
    const source = artifact.source;
    lines.push([
      'Source',
      !source
        ? '-'
        : source.kind === 'ami'
          ? `${source.region}:${source.imageId}`
          : `${source.reference}${source.digest ? `@${source.digest}` : ''}`,
    ]);
    lines.push([
      'Parent',
      artifact.parent
        ? `${artifact.parent.artifactId} (${artifact.parent.template} ${artifact.parent.build})${outdated ? ' (outdated: it has a newer version)' : ''}`
        : '-',
    ]);
    lines.push(['Children', children.length > 0 ? children.join(', ') : '-']);
    lines.push([
      'Channels',
      holding.current.length > 0
        ? holding.current.map((c) => `${c.build} ${c.channel} (${channelParameterName(c)})`).join(', ')
        : '-',
    ]);
    if (holding.rollback.length > 0) {
      lines.push(['Rollback target of', holding.rollback.map((c) => `${c.build} ${c.channel}`).join(', ')]);
    }
    const width = Math.max(...lines.map(([k]) => k.length)) + 2;
    for (const [k, v] of lines) io.out(`${`${k}:`.padEnd(width)}${v}\n`);
    const c = artifact.content;
    if (c.kind === 'ami') {
      io.out(
        `\n${renderTable(
          ['REGION', 'AMI', 'SNAPSHOTS'],
          c.images.map((i) => [i.region, i.imageId, i.snapshotIds.join(', ') || '-']),
        )}`,
      );
    } else if (c.kind === 'container-image') {
      io.out(`\nImage: ${c.imageUri}\nDigest: ${c.digest}\n`);
    } else {
      io.out(
        `\n${renderTable(
          ['FILE', 'LOCATION'],
          c.files.map((f) => [f.name, f.location]),
        )}`,
      );
    }
  });
}

export interface RevokeOptions extends RegistryOptions {
  readonly cascade: boolean;
  readonly reason?: string;
}

/**
 * `kiln artifacts revoke <id> [--cascade] --reason <why>`: marks the artifact (and with --cascade its
 * descendants) revoked, then deprecates their AMIs now in every region. Channels are not moved: the output names
 * each channel still holding a revoked artifact and how to move it. ECR images are not deleted.
 */
export function runArtifactsRevoke(
  artifactId: string,
  options: RevokeOptions,
  io: CliIO,
  connect: RegistryConnect = connectFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async (ctx) => {
    const ec2 = ctx.clients.ec2;
    // connectFromEnvironment always gives one; a test's connect that leaves it out is a wiring mistake.
    if (!ec2) throw new Error('kiln artifacts revoke: the registry clients have no EC2 client to deprecate AMIs with');
    const by = ctx.clients.identity ? await ctx.clients.identity() : (io.env.USER ?? 'unknown caller');
    const revoked = await revokeArtifacts(ctx, artifactId, {
      by,
      reason: options.reason ?? '',
      cascade: options.cascade,
    });
    const at = ctx.now?.() ?? new Date();
    const rows = [];
    for (const r of revoked) {
      // Deprecated again even when already revoked: an earlier revoke may have stopped before its EC2 calls.
      const deprecated = await deprecateImages({ ec2, ecr: unusedEcr }, r.artifact, at);
      const holding = await channelsHolding(ctx, r.artifact);
      rows.push({ ...r, deprecated, channels: holding.current });
    }
    if (options.json) {
      io.out(
        `${JSON.stringify(
          rows.map((r) => ({
            artifact: r.artifact,
            alreadyRevoked: r.alreadyRevoked,
            deprecated: r.deprecated,
            channels: r.channels.map((c) => ({ build: c.build, channel: c.channel })),
          })),
          null,
          2,
        )}\n`,
      );
      return;
    }
    io.out(
      renderTable(
        ['ARTIFACT', 'TEMPLATE', 'BUILD', 'KIND', 'REVOKED', 'DEPRECATED'],
        rows.map((r) => [
          r.artifact.artifactId,
          r.artifact.template,
          r.artifact.build,
          r.artifact.content.kind,
          r.alreadyRevoked ? `already (${r.artifact.revoked?.at ?? ''})` : 'now',
          r.deprecated.length > 0
            ? r.deprecated.map((d) => `${d.region}:${d.id}${d.outcome === 'gone' ? ' (gone)' : ''}`).join(', ')
            : '-',
        ]),
      ),
    );
    if (rows.some((r) => r.artifact.content.kind === 'container-image')) {
      io.out('Container images are marked revoked only: revoke does not delete ECR images (lifecycle does, later).\n');
    }
    for (const r of rows) {
      for (const c of r.channels) {
        io.out(
          `Warning: ${c.template} ${c.build} ${c.channel} still holds revoked ${r.artifact.artifactId}: promote ` +
            `another artifact (kiln channels promote ${c.template} ${c.build} ${c.channel} <artifact>)\n`,
        );
      }
    }
  });
}

/** Revoke deprecates AMIs only; it never deletes a container image, so it has no ECR client. */
const unusedEcr = (): never => {
  throw new Error('unreachable: revoke makes no ECR call');
};
