/**
 * The pure pieces of a job: the local-execution refusal (shell-local), packer's scrubbed environment and
 * arguments, the variables written for packer, redaction of sensitive values, packer version parsing and the
 * hypervisor check that refuses a job before packer runs.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hypervisorGap, hypervisorsOn, parsePackerVersion, which } from '../../../agent/capabilities.ts';
import { jobDirs, packerArgs, packerEnv, writeVariables } from '../../../agent/packer-run.ts';
import { REDACTED, redactor } from '../../../agent/redact.ts';
import { localExecSteps } from '../../../agent/template-scan.ts';
import { LIMITS } from '../../../aws/agent-gateway-contract.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-agent-job-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, content: string) => {
  writeFileSync(join(dir, name), content);
  return join(dir, name);
};

describe('local execution steps', () => {
  it('finds shell-local provisioners and post-processors in a JSON template, nested sequences included', async () => {
    const path = write(
      't.json',
      JSON.stringify({
        builders: [{ type: 'null' }],
        provisioners: [
          { type: 'shell', inline: ['x'] },
          { type: 'shell-local', command: 'id' },
        ],
        'post-processors': ['compress', [{ type: 'manifest' }, { type: 'shell-local', inline: ['id'] }]],
      }),
    );
    expect(await localExecSteps('json', path)).toEqual(['provisioner "shell-local"', 'post-processor "shell-local"']);
    const clean = write('c.json', JSON.stringify({ builders: [{ type: 'null' }], provisioners: [{ type: 'shell' }] }));
    expect(await localExecSteps('json', clean)).toEqual([]);
  });

  it('scans an HCL folder for shell-local blocks', async () => {
    mkdirSync(join(dir, 'hcl'));
    writeFileSync(join(dir, 'hcl', 'a.pkr.hcl'), 'source "null" "x" { communicator = "none" }\n');
    writeFileSync(
      join(dir, 'hcl', 'b.pkr.hcl'),
      'build {\n  sources = ["source.null.x"]\n  post-processor   "shell-local" {\n    inline = ["id"]\n  }\n}\n',
    );
    expect(await localExecSteps('hcl', join(dir, 'hcl'))).toEqual(['post-processor "shell-local"']);
    expect(await localExecSteps('hcl', join(dir, 'hcl', 'a.pkr.hcl'))).toEqual([]);
  });
});

describe('packer environment and arguments', () => {
  it("holds PATH, the job's folders and PKR_VAR_ values, none of the agent's own variables", () => {
    const dirs = jobDirs('/work/j-1');
    const env = packerEnv(
      dirs,
      '/opt/packer:/usr/bin',
      { region: 'eu' },
      {
        AWS_SECRET_ACCESS_KEY: 'leak',
        KILN_AGENT_CONFIG: '/etc/kiln/config.json',
        PACKER_LOG: '1',
        PACKER_PLUGIN_PATH: '/opt/plugins',
        PATH: '/agent/path',
      },
    );
    expect(env).toEqual({
      PATH: '/opt/packer:/usr/bin',
      HOME: '/work/j-1/home',
      TMPDIR: '/work/j-1/tmp',
      PACKER_CACHE_DIR: '/work/j-1/cache',
      PACKER_CONFIG_DIR: '/work/j-1/home/.packer.d',
      CHECKPOINT_DISABLE: '1',
      PACKER_PLUGIN_PATH: '/opt/plugins',
      PKR_VAR_region: 'eu',
    });
  });

  it('puts var files, never variable values, on the command line', () => {
    const payload = {
      version: 1 as const,
      format: 'json' as const,
      templatePath: 'tpl/t.json',
      only: 'vmware-iso.ubuntu',
      bundle: { key: 'k', sha256: '0'.repeat(64), bytes: 1 },
    };
    expect(packerArgs(payload, ['/j/vars/00-a.json'])).toEqual([
      'build',
      '-machine-readable',
      '-color=false',
      '-only=vmware-iso.ubuntu',
      '-var-file=/j/vars/00-a.json',
      'tpl/t.json',
    ]);
  });
});

describe('variables', () => {
  const doc = {
    varFiles: [{ name: 'conf/site.json', content: '{"a":"1"}' }],
    vars: [
      ['password', 's3cret'],
      ['count', '3'],
    ] as [string, string][],
    redact: ['s3cret'],
  };

  it('JSON templates: the var files in order, then the -var pairs as one more JSON var file, all 0600', async () => {
    const dirs = jobDirs(dir);
    const out = await writeVariables(dirs, 'json', doc);
    expect(out.pkrVars).toEqual({});
    expect(out.varFiles).toEqual([join(dirs.vars, '00-site.json'), join(dirs.vars, '01-vars.json')]);
    expect(JSON.parse(readFileSync(out.varFiles[1] as string, 'utf8'))).toEqual({ password: 's3cret', count: '3' });
    for (const f of out.varFiles) expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(statSync(dirs.vars).mode & 0o777).toBe(0o700);
  });

  it('HCL templates: -var pairs go as PKR_VAR_ values (packer types them), var files as files', async () => {
    const dirs = jobDirs(dir);
    const out = await writeVariables(dirs, 'hcl', doc);
    expect(out.pkrVars).toEqual({ password: 's3cret', count: '3' });
    expect(readdirSync(dirs.vars)).toEqual(['00-site.json']);
  });

  it('no document: nothing', async () => {
    expect(await writeVariables(jobDirs(dir), 'hcl', undefined)).toEqual({ varFiles: [], pkrVars: {} });
  });
});

describe('redaction', () => {
  it('replaces every sensitive value, the longest first, and cuts lines to the contract length', () => {
    const redact = redactor(['abc', 'abcdef', '']);
    expect(redact('x abcdef y abc z')).toBe(`x ${REDACTED} y ${REDACTED} z`);
    expect(redact('nothing here')).toBe('nothing here');
    expect(redact(`${'a'.repeat(LIMITS.logLineLength + 10)}`).length).toBe(LIMITS.logLineLength);
  });
});

describe('capabilities', () => {
  it('parses packer versions old and new', () => {
    expect(parsePackerVersion('Packer v1.6.6\n')).toBe('1.6.6');
    expect(
      parsePackerVersion('Packer v1.11.2\n\nYour version of Packer is out of date! The latest version\nis 1.12.0.'),
    ).toBe('1.11.2');
    expect(parsePackerVersion('1.9.4')).toBe('1.9.4');
    expect(parsePackerVersion('Packer v1.10.0-dev (abc)')).toBe('1.10.0-dev');
    expect(parsePackerVersion('nothing')).toBeUndefined();
  });

  it('finds hypervisor CLIs on the lookup path and refuses a vmware job without vmrun', () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'VBoxManage'), '#!/bin/sh\n');
    chmodSync(join(bin, 'VBoxManage'), 0o755);
    writeFileSync(join(bin, 'vmrun'), 'not executable');
    expect(which('VBoxManage', bin)).toBe(join(bin, 'VBoxManage'));
    expect(hypervisorsOn(bin)).toEqual(['VBoxManage']);
    expect(hypervisorGap('vmware-iso', bin)).toBe(
      "vmware not available on this agent: vmrun was not found on this agent's PATH: install it, or run builds needing it on another agent",
    );
    expect(hypervisorGap('virtualbox-iso', bin)).toBeUndefined();
    expect(hypervisorGap('null', '')).toBeUndefined();
  });
});
