/**
 * The end of `npm start`: channels and rollback, as a user would do them. The amazon-ebs build's artifact is
 * promoted to `prod` with the real `kiln` binary (`kiln channels promote … --local`, the CLI bundle against the
 * local stack), its SSM parameter is read back; a second build of the same template is promoted, read back, and
 * `kiln channels rollback` returns `prod` to the first AMI, read back again. Any step that does not hold fails
 * the run.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { channelParameterName } from '../core/image-registry/parameter.ts';
import { localClientConfig } from '../harness/clients.ts';
import { LOCAL_STACK_FILE_ENV } from './local-stack.ts';

const KILN_BIN = resolve(import.meta.dirname, '..', 'bin', 'kiln.js');

export interface ChannelDemo {
  readonly endpoint: string;
  /** The local stack's state file (cli/local-stack.ts) the `kiln` processes read for `--local`. */
  readonly stateFile: string;
  readonly template: string;
  readonly build: string;
  /** The first build's registry artifact. */
  readonly firstArtifact: string;
  /** Runs a second build of the same template and returns its registry artifact id (undefined: it failed). */
  readonly buildAgain: () => Promise<string | undefined>;
  readonly say: (line: string) => void;
}

interface KilnRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `kiln <args> --local`, the built CLI in its own process, as a user runs it. */
export function runKiln(args: readonly string[], stateFile: string): Promise<KilnRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [KILN_BIN, ...args, '--local'], {
      env: { ...process.env, [LOCAL_STACK_FILE_ENV]: stateFile, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ status: code ?? 1, stdout, stderr }));
  });
}

/** True when every step held: promote → value, second promote → value, rollback → the first value. */
export async function channelDemo(demo: ChannelDemo): Promise<boolean> {
  const { template, build, say } = demo;
  const ref = { template, build, channel: 'prod' };
  const parameter = channelParameterName(ref);
  const ssm = new SSMClient(localClientConfig(demo.endpoint));
  const read = async () => (await ssm.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Value;
  const kiln = async (args: readonly string[]): Promise<boolean> => {
    say(`$ kiln ${args.join(' ')} --local`);
    const run = await runKiln(args, demo.stateFile);
    for (const line of `${run.stdout}${run.stderr}`.trimEnd().split('\n')) if (line) say(`  ${line}`);
    return run.status === 0;
  };

  if (!(await kiln(['channels', 'promote', template, build, 'prod', demo.firstArtifact]))) return false;
  const first = await read();
  say(`${parameter} = ${first}`);

  say(`a second build of ${template}, to promote and roll back`);
  const second = await demo.buildAgain();
  if (!second) return false;
  if (!(await kiln(['channels', 'promote', template, build, 'prod', second]))) return false;
  const promoted = await read();
  say(`${parameter} = ${promoted}`);

  if (!(await kiln(['channels', 'rollback', template, build, 'prod']))) return false;
  const back = await read();
  say(`${parameter} = ${back}${back === first ? ' (the first build’s AMI again)' : ' — NOT the first AMI'}`);
  await kiln(['channels', 'list', template]);
  return first !== undefined && promoted !== first && back === first;
}
