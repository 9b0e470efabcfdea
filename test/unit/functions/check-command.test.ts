import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetCommandInvocationCommand } from '@aws-sdk/client-ssm';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { checkCommand, classifyInvocation } from '../../../functions/ec2-host/check-command/check-command.ts';
import {
  outputForTail,
  parseOutputUrl,
  SSM_INLINE_LIMITS,
} from '../../../functions/ec2-host/check-command/full-output.ts';
import { body, launchedState, mocks } from './fakes.ts';

function setup(index: number, attempt = 0) {
  const m = mocks();
  const state = launchedState({
    provision: { index, count: 7, attempt, commandId: 'cmd-1', sentAt: '2026-01-01T00:00:00.000Z' },
  });
  return { ...m, check: () => checkCommand({ ...m.deps, ssmFor: () => m.ssmClient }, { state }) };
}

describe('checkCommand', () => {
  it('advances to the next provisioner on Success', async () => {
    const t = setup(0);
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Success', ResponseCode: 0 });
    const out = await t.check();
    expect(t.ssm).toHaveReceivedCommandWith(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: 'i-0abc' });
    expect(out.wait).toEqual({ done: true, waitSeconds: 0 });
    expect(out.state.provision).toEqual({ index: 1, count: 7, attempt: 0 });
  });

  it('keeps polling with a growing wait while the command runs, and when the invocation is not visible yet', async () => {
    const t = setup(0);
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
    t.setNow('2026-01-01T00:03:00.000Z');
    expect((await t.check()).wait).toEqual({ done: false, waitSeconds: 120 });
    t.ssm.on(GetCommandInvocationCommand).rejects(Object.assign(new Error('no'), { name: 'InvocationDoesNotExist' }));
    expect((await t.check()).wait?.done).toBe(false);
  });

  it('fails with the exit code and the redacted tail of stderr', async () => {
    const t = setup(0);
    const stderr = `${Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n')}\npassword is hunter2-secret`;
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', ResponseCode: 7, StandardErrorContent: stderr });
    const err = (await t.check().catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('Kiln.ProvisionerFailed');
    expect(err.message).toContain('exit code 7');
    expect(err.message).toContain('password is <sensitive>');
    expect(err.message).not.toContain('hunter2-secret');
    expect(err.message).not.toContain('line 10\n');
    expect(err.message).toContain('line 12');
    expect(err.message).toContain('s3://kiln-artifacts/builds/kb-test/logs/0/0-0/');
  });

  it('takes the tail from the full output in S3 when SSM cut the inline stderr (it keeps the beginning)', async () => {
    const t = setup(0);
    const full = `${'noise\n'.repeat(3000)}the real cause: disk full\n`;
    const url =
      'https://s3.us-east-1.amazonaws.com/kiln-artifacts/builds/kb-test/logs/0/0-0/cmd-1/i-0abc/awsrunShellScript/0.awsrunShellScript/stderr';
    t.ssm.on(GetCommandInvocationCommand).resolves({
      Status: 'Failed',
      ResponseCode: 1,
      StandardErrorContent: full.slice(0, SSM_INLINE_LIMITS.stderr),
      StandardErrorUrl: url,
    });
    t.s3
      .on(GetObjectCommand, { Bucket: 'kiln-artifacts', Key: parseOutputUrl(url)?.key })
      .resolves({ Body: body(full.slice(-4000)) });
    const err = (await t.check().catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('the real cause: disk full');
    expect(t.s3).toHaveReceivedCommandWith(GetObjectCommand, { Range: 'bytes=-16384' });
  });

  it('says the tail may be cut when the full output cannot be read', async () => {
    const t = setup(0);
    t.ssm.on(GetCommandInvocationCommand).resolves({
      Status: 'Failed',
      ResponseCode: 1,
      StandardErrorContent: 'x\n'.repeat(SSM_INLINE_LIMITS.stderr / 2),
      StandardErrorUrl: '',
    });
    const err = (await t.check().catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('the output was cut');
  });

  it.each([
    ['https://s3.us-east-1.amazonaws.com/b/k/x/stderr', { bucket: 'b', key: 'k/x/stderr' }],
    ['https://b.s3.eu-west-1.amazonaws.com/k/stderr', { bucket: 'b', key: 'k/stderr' }],
    ['https://s3.amazonaws.com/b/', undefined],
    ['not a url', undefined],
  ])('parses the SSM output URL %s', (url, expected) => {
    expect(parseOutputUrl(url)).toEqual(expected);
  });

  it('uses the inline text when it is whole, without reading S3', async () => {
    const t = setup(0);
    expect(await outputForTail(t.deps.s3, 'short', 'https://s3.amazonaws.com/b/k', 8000)).toEqual({
      text: 'short',
      from: 'inline',
    });
    expect(t.s3).not.toHaveReceivedCommand(GetObjectCommand);
  });

  it('asks for a retry while max_retries allows, without pausing again', async () => {
    const t = setup(1, 1);
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', ResponseCode: 1 });
    const out = await t.check();
    expect(out.wait).toEqual({ done: false, waitSeconds: 0, retry: true });
    expect(out.state.provision).toEqual({ index: 1, count: 7, attempt: 2, paused: true });
    const last = setup(1, 2);
    last.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', ResponseCode: 1 });
    await expect(last.check()).rejects.toMatchObject({
      name: 'Kiln.ProvisionerFailed',
      message: expect.stringContaining('after 3 attempts'),
    });
  });

  it('times out with Kiln.Timeout after the provisioner timeout plus grace', async () => {
    const t = setup(1);
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
    t.setNow('2026-01-01T00:21:00.000Z');
    await expect(t.check()).rejects.toMatchObject({ name: 'Kiln.Timeout' });
  });

  it.each([
    [{ Status: 'Failed', ResponseCode: 2 }, [0, 2], false, 'success'],
    [{ Status: 'Failed', ResponseCode: 1 }, [0], false, 'failed'],
    [{ Status: 'TimedOut', ResponseCode: -1 }, [0], true, 'success'],
    [{ Status: 'TimedOut', ResponseCode: -1 }, [0], false, 'failed'],
    [{ Status: 'Delayed' }, [0], false, 'running'],
  ] as const)('classifies %o (valid %o, expect_disconnect %s) as %s', (out, codes, disconnect, kind) => {
    expect(classifyInvocation(out, codes, disconnect).kind).toBe(kind);
  });
});
