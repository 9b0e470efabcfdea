import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bufferedIO } from '../../../cli/io.ts';
import {
  DEFAULT_LOCAL_STACK_FILE,
  LOCAL_STACK_FILE_ENV,
  type LocalStackState,
  localStackFile,
  removeLocalStack,
  takeLocalFlag,
  writeLocalStack,
} from '../../../cli/local-stack.ts';
import { runCli } from '../../../cli/program.ts';

const state = (pid = process.pid): LocalStackState => ({
  version: 1,
  pid,
  endpoint: 'http://127.0.0.1:4599',
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIALOCAL', secretAccessKey: 'local-secret' },
  outputs: { RegistryTableName: 'kiln-registry', BuildStateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:b' },
  startedAt: '2026-12-02T00:00:00.000Z',
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-local-stack-'));
});

describe('--local', () => {
  const file = () => join(dir, 'state.json');
  afterEach(() => removeLocalStack(file()));

  it('finds the state file from $KILN_LOCAL_STACK, else .kiln/local-stack.json in the current directory', () => {
    expect(localStackFile({}, '/repo')).toBe(join('/repo', DEFAULT_LOCAL_STACK_FILE));
    expect(localStackFile({ [LOCAL_STACK_FILE_ENV]: 'x/s.json' }, '/repo')).toBe('/repo/x/s.json');
  });

  it('writes the state 0600 and turns it into the SDK and stack-output variables, the flag taken off', () => {
    writeLocalStack(file(), state());
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    const taken = takeLocalFlag(['channels', '--local', 'list', 'web'], { [LOCAL_STACK_FILE_ENV]: file() }, dir);
    expect(taken.argv).toEqual(['channels', 'list', 'web']);
    expect(taken.env).toMatchObject({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4599',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIALOCAL',
      AWS_SECRET_ACCESS_KEY: 'local-secret',
      KILN_REGISTRY_TABLE: 'kiln-registry',
      KILN_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:1:stateMachine:b',
    });
    expect(taken.env).not.toHaveProperty('KILN_AGENT_TABLE'); // an output the stack lacks sets nothing
  });

  it('leaves the arguments alone without the flag, or when it follows --', () => {
    expect(takeLocalFlag(['artifacts', 'list', 'web'], {}, dir)).toEqual({ argv: ['artifacts', 'list', 'web'] });
    expect(takeLocalFlag(['validate', '--', '--local'], {}, dir).env).toBeUndefined();
  });

  it('refuses, saying how to start one, when there is no state file, a corrupt one, or its process is gone', async () => {
    const env = { [LOCAL_STACK_FILE_ENV]: file() };
    expect(() => takeLocalFlag(['--local'], env, dir)).toThrow(/no local stack .*npm start -- --keep/);
    writeFileSync(file(), '{');
    expect(() => takeLocalFlag(['--local'], env, dir)).toThrow(/not JSON/);
    writeLocalStack(file(), state(2 ** 22 + 12345)); // above Linux's pid_max default: no such process
    expect(() => takeLocalFlag(['--local'], env, dir)).toThrow(/has stopped \(process \d+ is gone\)/);
    // Through the CLI: exit 1 and the message on stderr, nothing run.
    const io = bufferedIO({ env });
    expect(await runCli(['artifacts', 'list', 'web', '--local'], io)).toBe(1);
    expect(io.stderr()).toContain('has stopped');
  });

  it('gives a command the stack outputs as its variables (the registry table here)', async () => {
    writeLocalStack(file(), { ...state(), outputs: {} });
    const io = bufferedIO({ env: { [LOCAL_STACK_FILE_ENV]: file() } });
    // No RegistryTableName output: the command names the variable it lacks, as it would without --local.
    expect(await runCli(['artifacts', 'list', 'web', '--local'], io)).toBe(1);
    expect(io.stderr()).toContain('no registry table');
    expect(readFileSync(file(), 'utf8')).toContain('AKIALOCAL');
  });
});
