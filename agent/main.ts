/**
 * `kiln-agent`: runs Kiln's on-prem builds (vmware-iso, virtualbox-iso, null...) with the real packer on this
 * machine, jobs handed out by the agent gateway. Commands: register, run, status, deregister (README "Agents").
 * Exit codes: 0 done, 1 error, 2 usage, 3 the gateway refused this agent (revoked, deregistered).
 */
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import * as z from 'zod/mini';
import { LIMITS, labelsSchema } from '../aws/agent-gateway-contract.ts';
import { capabilitiesOf, findPacker, lookupPath } from './capabilities.ts';
import { configPath, readConfig, writeConfig } from './config.ts';
import { AgentConfigError, GatewayResponseError, GatewayUnreachableError, PackerMissingError } from './errors.ts';
import { GatewayClient } from './gateway-client.ts';
import { runAgent } from './runner.ts';

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
const DEFAULT_GRACE_SECONDS = 120;

const hostName = () =>
  hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64) || 'agent';

interface RunFlags {
  once?: boolean;
  labels?: string;
  allowLocalExec?: boolean;
  /** undefined: the config decides; `--upload-artifacts` true, `--no-upload-artifacts` false. */
  uploadArtifacts?: boolean;
  graceSeconds: string;
}

function program(): Command {
  const cli = new Command('kiln-agent')
    .description("Runs Kiln's on-prem packer builds on this machine")
    .option('--config <path>', 'config file (default $KILN_AGENT_CONFIG or ~/.config/kiln-agent/config.json)')
    .showHelpAfterError();

  cli
    .command('register')
    .description('exchange a one-time registration token for this agent identity; writes the config (0600)')
    .requiredOption('--url <url>', 'the agent gateway URL (`kiln agents token create` prints it)')
    .requiredOption('--token <token>', 'the one-time registration token rt-….…')
    .option('--name <name>', 'display name', hostName())
    .option('--work-dir <dir>', 'where jobs run (default: a work folder beside the config)')
    .option('--allow-local-exec', 'run templates with shell-local steps (they execute on this host)')
    .option('--upload-artifacts', "upload a build's artifact files to Kiln's artifacts bucket (presigned URLs)")
    .action(
      async (opts: {
        url: string;
        token: string;
        name: string;
        workDir?: string;
        allowLocalExec?: boolean;
        uploadArtifacts?: boolean;
      }) => {
        const path = configPath(cli.opts<{ config?: string }>().config);
        const search = lookupPath();
        const packer = await findPacker(search);
        const capabilities = capabilitiesOf(packer, search);
        const out = await new GatewayClient(opts.url).register({ token: opts.token, name: opts.name, capabilities });
        writeConfig(path, {
          url: opts.url,
          agentId: out.agentId,
          credential: out.credential,
          labels: out.labels,
          name: opts.name,
          workDir: opts.workDir ?? join(dirname(path), 'work'),
          ...(opts.allowLocalExec ? { allowLocalExec: true } : {}),
          ...(opts.uploadArtifacts ? { uploadArtifacts: true } : {}),
        });
        log(`registered ${opts.name} as ${out.agentId} (labels [${out.labels.join(', ')}]); config written to ${path}`);
      },
    );

  cli
    .command('run')
    .description('take jobs until stopped (SIGTERM/SIGINT stop it; a running build is interrupted and reported)')
    .option('--once', 'run one job then exit (an ephemeral agent)')
    .option('--labels <a,b>', "take only jobs with these of the agent's labels")
    .option('--allow-local-exec', 'run templates with shell-local steps (they execute on this host)')
    .option('--upload-artifacts', "upload artifact files (overrides the config's choice)")
    .option('--no-upload-artifacts', 'upload nothing, whatever the config says')
    .addOption(
      new Option('--grace-seconds <n>', 'time packer gets to clean up after an interrupt').default(
        String(DEFAULT_GRACE_SECONDS),
      ),
    )
    .action(async (opts: RunFlags) => {
      const config = readConfig(configPath(cli.opts<{ config?: string }>().config));
      const controller = new AbortController();
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals += 1;
        // A second signal while packer cleans up: leave now (packer's process group is on its own).
        if (signals > 1) process.exit(130);
        log(`kiln-agent: ${signal}, stopping`);
        controller.abort();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      const labels = opts.labels
        ?.split(',')
        .map((l) => l.trim())
        .filter((l) => l !== '');
      if (labels && !z.safeParse(labelsSchema, labels).success) {
        throw new AgentConfigError(
          `--labels ${opts.labels}: a label is 1-64 of A-Z a-z 0-9 . _ : / -, at most ${LIMITS.labels}`,
        );
      }
      const graceSeconds = Number(opts.graceSeconds);
      if (!Number.isFinite(graceSeconds) || graceSeconds < 0) {
        throw new AgentConfigError(`--grace-seconds ${opts.graceSeconds}: a number of seconds, 0 or more`);
      }
      const end = await runAgent(config, {
        once: opts.once === true,
        ...(labels ? { labels } : {}),
        path: lookupPath(),
        graceMs: graceSeconds * 1000,
        allowLocalExec: opts.allowLocalExec === true || config.allowLocalExec === true,
        uploadArtifacts: opts.uploadArtifacts ?? config.uploadArtifacts === true,
        stop: controller.signal,
        log,
      });
      if (end.code === 3) {
        process.stderr.write(`kiln-agent: ${end.message}\n`);
        process.exitCode = 3;
      }
    });

  cli
    .command('status')
    .description('print the config (never the secret) and the capabilities found now')
    .option('--check', 'also check the gateway URL answers (an unauthenticated GET)')
    .action(async (opts: { check?: boolean }) => {
      const path = configPath(cli.opts<{ config?: string }>().config);
      const config = readConfig(path);
      const { credential: _secret, ...shown } = config;
      const search = lookupPath();
      const packer = await findPacker(search).catch((e: Error) => e);
      const status: Record<string, unknown> = {
        config: path,
        ...shown,
        capabilities: packer instanceof Error ? { error: packer.message } : capabilitiesOf(packer, search),
      };
      if (opts.check) {
        // An unauthenticated GET of the root: reachable or not, without taking a job or using the secret.
        status.gateway = await fetch(config.url, { signal: AbortSignal.timeout(10_000) }).then(
          (r) => `reachable (HTTP ${r.status})`,
          (e: Error) => `not reachable: ${(e.cause as Error | undefined)?.message ?? e.message}`,
        );
      }
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    });

  cli
    .command('deregister')
    .description('remove this agent from the gateway (its credential stops working)')
    .action(async () => {
      const path = configPath(cli.opts<{ config?: string }>().config);
      const config = readConfig(path);
      const out = await new GatewayClient(config.url).deregister(config.credential);
      log(`${out.agentId} deregistered; remove ${path} or register again with a new token`);
    });
  return cli;
}

try {
  await program().parseAsync(process.argv);
} catch (error) {
  const known =
    error instanceof AgentConfigError ||
    error instanceof GatewayResponseError ||
    error instanceof GatewayUnreachableError ||
    error instanceof PackerMissingError;
  process.stderr.write(`kiln-agent: ${known ? (error as Error).message : String((error as Error)?.stack ?? error)}\n`);
  process.exitCode = error instanceof GatewayResponseError && error.agentRefused ? 3 : 1;
}
