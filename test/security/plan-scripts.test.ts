/**
 * `kiln plan --scripts DIR` writes the script each provisioner sends, rendered by the same functions as
 * RunProvisioner. The files are read back, and the shell one runs under bash with a hostile `-var` value.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bufferedIO } from '../../cli/io.ts';
import { runCli } from '../../cli/program.ts';
import { makeSandbox, type Sandbox } from './sandbox.ts';

const TEMPLATE = {
  variables: { app_version: '', folder: '' },
  builders: [
    {
      type: 'amazon-ebs',
      name: 'web',
      region: 'us-east-1',
      source_ami: 'ami-12345678',
      instance_type: 't3.micro',
      ssh_username: 'ubuntu',
      ami_name: 'x-{{timestamp}}',
    },
  ],
  provisioners: [
    {
      type: 'shell',
      environment_vars: ['APP_VERSION={{user `app_version`}}'],
      remote_folder: '{{user `folder`}}',
      inline: ['printf %s "$APP_VERSION" > "$HOME/out"'],
    },
    { type: 'file', source: 'site.txt', destination: '/var/www/site.txt' },
    {
      type: 'powershell',
      environment_vars: ['APP_VERSION={{user `app_version`}}'],
      inline: ['Write-Host $env:APP_VERSION'],
    },
  ],
};

describe('kiln plan --scripts', () => {
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => sb.dispose());

  it.each([
    ['the reported exploit', `$'$(touch @M@)" #`],
    ['$& in a password', 'p@ss$&word'],
    ['newline and quotes', `a'b\n"c"\`touch @M@\``],
  ])('writes one file per provisioner; the shell script carries %s intact and inert', async (_label, payload) => {
    const value = sb.arm(payload);
    writeFileSync(join(sb.root, 'template.json'), JSON.stringify(TEMPLATE));
    writeFileSync(join(sb.root, 'site.txt'), 'hello');
    const io = bufferedIO({ cwd: sb.root, env: {}, color: false });
    const argv = ['plan', '--scripts', 'out', '-var', `app_version=${value}`, '-var', `folder=${sb.root}/r`];
    const code = await runCli([...argv, 'template.json'], io);
    expect(io.stderr()).toContain('Wrote 3 builder script(s)');
    expect(code).toBe(0);
    expect(readdirSync(join(sb.root, 'out'))).toEqual(['web']);
    const dir = join(sb.root, 'out', 'web');
    expect(readdirSync(dir).sort()).toEqual(['0-shell.sh', '1-file.sh', '2-powershell.ps1']);
    expect(readFileSync(join(dir, '1-file.sh'), 'utf8')).toContain(
      "kiln_fetch 'KILN_PRESIGNED_GET_URL(site.txt)' '/var/www/site.txt' || exit 1",
    );
    expect(readFileSync(join(dir, '2-powershell.ps1'), 'utf8')).toContain('$env:APP_VERSION = ');
    sb.run(readFileSync(join(dir, '0-shell.sh'), 'utf8'));
    expect(sb.pwned()).toBe(false);
    expect(sb.out()).toBe(value);
  });

  it('says so in --help, placeholders included', async () => {
    const io = bufferedIO({ cwd: sb.root, env: {}, color: false });
    await runCli(['plan', '--help'], io).catch(() => 1);
    expect(`${io.stdout()}${io.stderr()}`).toMatch(/--scripts <dir>[\s\S]*KILN_PRESIGNED_GET_URL/);
  });
});
