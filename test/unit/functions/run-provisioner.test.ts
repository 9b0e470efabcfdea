import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { ProvisionerFailedError } from '../../../core/errors.ts';
import { flattenEnvVars, shq as sq } from '../../../core/provisioners/render/quote.ts';
import { renderFile, renderShell } from '../../../core/provisioners/render/shell.ts';
import { runShellLocal } from '../../../functions/common/shell-local/run-shell-local.ts';
import {
  type RunProvisionerDeps,
  runProvisioner,
} from '../../../functions/ec2-host/run-provisioner/run-provisioner.ts';
import { launchedState, mocks, planWith } from './fakes.ts';

const presign: RunProvisionerDeps['presign'] = async (method, bucket, key) =>
  `https://${bucket}.s3.example/${key}?X-Amz-Signature=${method}`;

function setup() {
  const m = mocks();
  m.ssm.on(ListCommandsCommand).resolves({ Commands: [] });
  m.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
  const deps: RunProvisionerDeps = {
    ...m.deps,
    ssmFor: () => m.ssmClient,
    presign,
    logGroup: '/kiln/provision',
    shellLocal: runShellLocal,
  };
  const run = (index: number, extra: Partial<NonNullable<ReturnType<typeof launchedState>['provision']>> = {}) =>
    runProvisioner(deps, { state: launchedState({ provision: { index, count: 7, attempt: 0, ...extra } }) });
  return { ...m, run };
}

function sentScript(t: ReturnType<typeof setup>): string {
  const input = t.ssm.commandCalls(SendCommandCommand)[0]?.args[0].input;
  return (input?.Parameters?.commands ?? []).join('\n');
}

function shellcheck(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sc-'));
  const file = join(dir, 'script.sh');
  writeFileSync(file, script);
  try {
    execFileSync('shellcheck', ['--shell=bash', '--severity=warning', file], { encoding: 'utf8' });
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

describe('runProvisioner', () => {
  it('sends an inline shell provisioner once, with log outputs and an idempotent comment', async () => {
    const t = setup();
    const out = await t.run(0);
    expect(t.ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      InstanceIds: ['i-0abc'],
      DocumentName: 'AWS-RunShellScript',
      Comment: 'kiln kb-test b0 p0 a0',
      OutputS3BucketName: 'kiln-artifacts',
      OutputS3KeyPrefix: 'builds/kb-test/logs/0/0-0',
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: '/kiln/provision' },
    });
    expect(out.state.provision).toMatchObject({ index: 0, commandId: 'cmd-1', sentAt: '2026-01-01T00:00:00.000Z' });
    expect(out.wait).toEqual({ done: false, waitSeconds: 15 });
    const script = sentScript(t);
    expect(script).toContain("#!/bin/sh -e\necho 'it''s here' $FOO\napt-get update");
    expect(script).toContain(
      `FOO='bar baz' PACKER_BUILDER_TYPE='amazon-ebs' PACKER_BUILD_NAME='amazon-ebs.ubuntu' QUOTE='it'"'"'s'`,
    );
    expect(shellcheck(script)).toBe('');
  });

  it('does not send a command twice when a retried invocation finds it by its comment', async () => {
    const t = setup();
    t.ssm.on(ListCommandsCommand).resolves({ Commands: [{ CommandId: 'cmd-old', Comment: 'kiln kb-test b0 p0 a0' }] });
    const out = await t.run(0);
    expect(t.ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(out.state.provision?.commandId).toBe('cmd-old');
  });

  it('waits pause_before first, then sends scripts fetched by presigned URL with execute_command and valid_exit_codes', async () => {
    const t = setup();
    const paused = await t.run(1);
    expect(paused.wait).toEqual({ done: false, waitSeconds: 30 });
    expect(paused.state.provision).toMatchObject({ index: 1, paused: true });
    expect(t.ssm).not.toHaveReceivedCommand(SendCommandCommand);

    await t.run(1, { paused: true });
    const input = t.ssm.commandCalls(SendCommandCommand)[0]?.args[0].input;
    expect(input?.Parameters?.executionTimeout).toEqual(['600']);
    const script = sentScript(t);
    expect(script).toContain(
      `kiln_fetch 'https://kiln-artifacts.s3.example/builds/kb-test/files/scripts/setup.sh?X-Amz-Signature=GET' '/var/tmp/script_1_0.sh'`,
    );
    expect(script).toContain(
      // Inside the author's single quotes {{.Vars}} is escaped for them, so the nested sh reads quoted values.
      `sudo -E sh -c 'PACKER_BUILDER_TYPE='"'"'amazon-ebs'"'"' PACKER_BUILD_NAME='"'"'amazon-ebs.ubuntu'"'"'  /var/tmp/script_1_1.sh'`,
    );
    expect(script).toContain('case "$kiln_rc" in\n  0|2) ;;');
    // Both downloads come before the first run, so expiring URLs never hit a later script.
    expect(script.lastIndexOf("kiln_fetch '")).toBeLessThan(script.indexOf('sudo -E'));
    expect(shellcheck(script)).toBe('');
  });

  it('uploads a file provisioner source with curl to its destination', async () => {
    const t = setup();
    await t.run(2);
    const script = sentScript(t);
    expect(script).toContain(
      `kiln_fetch 'https://kiln-artifacts.s3.example/builds/kb-test/files/files/app.conf?X-Amz-Signature=GET' '/etc/app/app.conf'`,
    );
    expect(shellcheck(script)).toBe('');
  });

  it('uploads a directory source file by file, keeping its layout (Packer: "dir" copies the directory itself)', async () => {
    const m = mocks(
      planWith((p) => {
        const prov = p.plan.builds[0]?.provisioners[2] as unknown as {
          files: unknown[];
          config: Record<string, unknown>;
        };
        prov.files = [{ path: '/tmp/t/site', relativePath: 'site', directory: true }];
        prov.config = { source: '/tmp/t/site', destination: '/var/www' };
      }),
    );
    m.ssm.on(ListCommandsCommand).resolves({ Commands: [] });
    m.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    m.s3.on(ListObjectsV2Command, { Prefix: 'builds/kb-test/files/site/' }).resolves({
      Contents: [{ Key: 'builds/kb-test/files/site/index.html' }, { Key: 'builds/kb-test/files/site/css/a.css' }],
    });
    const deps: RunProvisionerDeps = { ...m.deps, ssmFor: () => m.ssmClient, presign };
    await runProvisioner(deps, { state: launchedState({ provision: { index: 2, count: 7, attempt: 0 } }) });
    const script = (m.ssm.commandCalls(SendCommandCommand)[0]?.args[0].input.Parameters?.commands ?? []).join('\n');
    expect(script).toContain(`files/site/index.html?X-Amz-Signature=GET' '/var/www/site/index.html'`);
    expect(script).toContain(`files/site/css/a.css?X-Amz-Signature=GET' '/var/www/site/css/a.css'`);
  });

  it('downloads with a presigned PUT under the build prefix for direction = "download"', async () => {
    const t = setup();
    await t.run(5);
    const script = sentScript(t);
    expect(script).toContain(
      `--upload-file '/var/log/cloud-init.log' 'https://kiln-artifacts.s3.example/builds/kb-test/downloads/0/logs?X-Amz-Signature=PUT'`,
    );
    expect(shellcheck(script)).toBe('');
  });

  it('skips a breakpoint with a note and advances', async () => {
    const t = setup();
    const out = await t.run(3);
    expect(out.wait).toEqual({ done: true, waitSeconds: 0 });
    expect(out.state.provision).toEqual({ index: 4, count: 7, attempt: 0 });
    expect(out.state.notes?.[0]).toMatch(/breakpoint needs an interactive session/);
    expect(t.ssm).not.toHaveReceivedCommand(SendCommandCommand);
  });

  it('refuses shell-local when the isolated ShellLocal function is not deployed, saying how to enable it', async () => {
    const m = mocks();
    const deps: RunProvisionerDeps = { ...m.deps, ssmFor: () => m.ssmClient, presign };
    const err = await runProvisioner(deps, {
      state: launchedState({ provision: { index: 4, count: 7, attempt: 0 } }),
    }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ProvisionerFailedError);
    expect((err as Error).message).toContain('redeploy the current Kiln stack');
  });

  it('runs shell-local through the isolated runner without the function credentials', async () => {
    const t = setup();
    process.env.AWS_SECRET_ACCESS_KEY = 'should-not-leak';
    try {
      const out = await t.run(4);
      expect(out.state.provision?.index).toBe(5);
    } finally {
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });

  it('rejects an unsupported provisioner type with Kiln.ProvisionerFailed', async () => {
    const m = mocks(planWith((p) => Object.assign(p.plan.builds[0]?.provisioners[0] ?? {}, { type: 'ansible' })));
    const deps: RunProvisionerDeps = { ...m.deps, ssmFor: () => m.ssmClient, presign };
    await expect(runProvisioner(deps, { state: launchedState() })).rejects.toMatchObject({
      name: 'Kiln.ProvisionerFailed',
      message: expect.stringContaining('"ansible" is not supported'),
    });
  });
});

describe('shell rendering', () => {
  it('quotes any value safely and flattens vars the way Packer does', () => {
    expect(sq(`a'b`)).toBe(`'a'"'"'b'`);
    expect(
      flattenEnvVars([
        ['B', '2'],
        ['A', "x'y"],
      ]),
    ).toBe(`A='x'"'"'y' B='2' `);
    expect(flattenEnvVars([['A', '1']], 'export %s="%s"; ')).toBe('export A="1"; ');
  });

  it('keeps a heredoc intact when the script contains the default delimiter', () => {
    const script = renderShell(
      { inline: ['echo one', 'KILN_EOF', 'echo two'] },
      { buildName: 'b', builderType: 't', index: 0, files: new Map() },
    );
    expect(script).toContain("<<'KILN_EOF_1'");
    expect(shellcheck(script)).toBe('');
  });

  it('runs the generated script: valid_exit_codes pass, another code fails with that code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-run-'));
    const ctx = { buildName: 'b', builderType: 't', index: 0, files: new Map() };
    const runScript = (code: number) => {
      const script = renderShell({ inline: [`exit ${code}`], valid_exit_codes: ['0', '2'], remote_folder: dir }, ctx);
      try {
        execFileSync('bash', ['-c', script], { encoding: 'utf8', stdio: 'pipe' });
        return { status: 0, stderr: '' };
      } catch (err) {
        const e = err as { status: number; stderr: string };
        return { status: e.status, stderr: e.stderr };
      }
    };
    expect(runScript(2).status).toBe(0);
    const failed = runScript(3);
    expect(failed.status).toBe(3);
    expect(failed.stderr).toContain('Inline script exited with non-zero exit status: 3');
  });

  it('rejects a file provisioner without destination', () => {
    expect(() => renderFile({ source: 'x' }, { buildName: 'b', builderType: 't', index: 0, files: new Map() })).toThrow(
      /destination/,
    );
  });

  it.each([
    ['environment_vars', { environment_vars: ["GREETING=it's hello"], env: { NAME: 'world' } }],
    ['use_env_var_file', { environment_vars: ["GREETING=it's hello"], env: { NAME: 'world' }, use_env_var_file: true }],
    [
      'custom execute_command',
      {
        environment_vars: ['GREETING=it is hello', 'NAME=world'],
        execute_command: "sh -c '{{ .Vars }} {{ .Path }}'",
        env_var_format: 'export %s="%s"; ',
      },
    ],
  ] as const)('runs an inline script that sees its variables (%s), and cleans up after itself', (_label, extra) => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-env-'));
    const ctx = { buildName: 'b', builderType: 't', index: 4, files: new Map() };
    const script = renderShell(
      { inline: ['echo "$GREETING $NAME from $PACKER_BUILD_NAME"'], remote_folder: dir, remote_file: 'x.sh', ...extra },
      ctx,
    );
    expect(shellcheck(script)).toBe('');
    const out = execFileSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(out.trim()).toMatch(/^it('s| is) hello world from b$/);
    expect(execFileSync('ls', ['-A', dir], { encoding: 'utf8' })).toBe('');
  });
});
