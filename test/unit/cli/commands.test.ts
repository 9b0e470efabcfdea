/**
 * `kiln` end to end in-process: runCli with a buffered sink over fixture templates, through the real
 * loader and planner (no mocks), asserting exit codes and what a user sees.
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bufferedIO } from '../../../cli/io.ts';
import { parseMachineLine } from '../../../cli/machine-readable.ts';
import { runCli } from '../../../cli/program.ts';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures/cli');
const EXAMPLES = resolve(import.meta.dirname, '../../../examples');

async function kiln(argv: string[], options: { env?: Record<string, string>; color?: boolean; cwd?: string } = {}) {
  const io = bufferedIO({ cwd: options.cwd ?? FIXTURES, env: options.env ?? {}, color: options.color ?? false });
  const code = await runCli(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('kiln validate', () => {
  it('accepts a valid template and says so, with exit code 0', async () => {
    const r = await kiln(['validate', 'null-build.pkr.hcl']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('The configuration is valid.\n');
    expect(r.code).toBe(0);
  });

  it('prints warnings like Packer (on stdout, with the source line) and still passes', async () => {
    const r = await kiln(['validate', 'agent-only-builder.json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Warning: [\s\S]*qemu[\s\S]*\n {2}on agent-only-builder\.json line 2, column \d+:\n/);
    expect(r.stdout.endsWith('The configuration is valid.\n')).toBe(true);
  });

  it('takes Packer single-dash flags and double-dash flags alike', async () => {
    const single = await kiln(['validate', '-var', 'repo=app', '-var=base=alpine:3', 'docker-app.json']);
    const double = await kiln(['validate', '--var', 'repo=app', '--var', 'base=alpine:3', 'docker-app.json']);
    expect([single.code, double.code]).toEqual([0, 0]);
    expect(single.stdout).toBe(double.stdout);
  });

  it('fails with exit code 1 naming a required variable that is not set', async () => {
    const r = await kiln(['validate', 'docker-app.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: /m);
    expect(r.stderr).toContain('repo');
    expect(r.stdout).not.toContain('The configuration is valid.');
  });

  it('reads PKR_VAR_ variables (HCL2) from the environment it is given', async () => {
    expect((await kiln(['validate', 'needs-var.pkr.hcl'])).code).toBe(1);
    const r = await kiln(['validate', 'needs-var.pkr.hcl'], { env: { PKR_VAR_greeting: 'from-env' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('prints the offending source line with a caret under the error', async () => {
    const r = await kiln(['validate', 'unknown-source.pkr.hcl']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('null.missing');
    expect(r.stderr).toMatch(/on .*unknown-source\.pkr\.hcl line 6, column \d+:/);
    expect(r.stderr).toContain('  6:   sources = ["source.null.missing"]');
    expect(r.stderr).toMatch(/\n +\^\n/);
  });

  it('reports JSON syntax errors with their line', async () => {
    const r = await kiln(['validate', '-syntax-only', 'trailing-comma.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line [34], column \d+/);
  });

  it('writes Packer machine-readable lines, one event per line, commas escaped', async () => {
    const r = await kiln(['validate', '-machine-readable', 'docker-app.json']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^\d+,,ui,(error|say),/);
    expect(lines.map(parseMachineLine).some((f) => f[3] === 'error' && (f[4] ?? '').includes('repo'))).toBe(true);
    const ok = await kiln(['validate', '-machine-readable', '-var', 'repo=app', 'docker-app.json']);
    expect(ok.stdout).toMatch(/^\d+,,ui,say,The configuration is valid\.\n$/);
  });

  it('colours diagnostics only when asked to', async () => {
    const plain = await kiln(['validate', 'docker-app.json']);
    const colored = await kiln(['validate', 'docker-app.json'], { color: true });
    expect(plain.stderr).not.toContain('\u001b[');
    expect(colored.stderr).toContain('\u001b[');
  });

  it('rejects a -var without "=" as a usage error', async () => {
    const r = await kiln(['validate', '-var', 'novalue', 'docker-app.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('must be name=value');
  });

  it('fails on a template that does not exist', async () => {
    const r = await kiln(['validate', 'no-such-template.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no-such-template.json');
  });
});

describe('kiln inspect', () => {
  it('shows variables with sensitive values redacted, builds and provisioners in order', async () => {
    const r = await kiln(['inspect', 'docker-app.json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('registry_password = <sensitive>');
    expect(r.stdout).not.toContain('s3cr3t-pa55');
    expect(r.stdout).toMatch(/Required variables:\n\n {2}repo\n/);
    expect(r.stdout).toMatch(/Provisioners:\n {4}shell\n {4}shell\n/);
    expect(r.stdout).toContain('0: docker-tag');
  });

  it('emits template-variable, template-builder and template-provisioner events', async () => {
    const r = await kiln(['inspect', '-machine-readable', 'docker-app.json']);
    const events = r.stdout.trimEnd().split('\n').map(parseMachineLine);
    expect(events).toContainEqual(expect.arrayContaining(['template-builder', 'docker', 'docker']));
    expect(events.filter((e) => e[2] === 'template-provisioner').map((e) => e[3])).toEqual(['shell', 'shell']);
    expect(r.stdout).not.toContain('s3cr3t-pa55');
  });
});

describe('kiln plan', () => {
  it('tabulates the docker reference template: ec2-docker driver, base image, ECR repository', async () => {
    const r = await kiln(['plan', join(EXAMPLES, 'docker-python-app.json')]);
    expect(r.code).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.startsWith('docker '));
    expect(row).toMatch(/ec2-docker\s+-\s+python:3\.9-slim\s+-\s+-\s+my-python-app/);
  });

  it('routes the vmware reference template to an agent', async () => {
    const r = await kiln(['plan', join(EXAMPLES, 'vmware-ubuntu-apache.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/vmware-iso\s+agent/);
  });

  it('prints the redacted BuildPlan with --json', async () => {
    const r = await kiln(['plan', '--json', '-var', 'repo=app', 'docker-app.json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.version).toBe(1);
    expect(plan.builds.map((b: { driver: string }) => b.driver)).toEqual(['ec2-docker']);
    expect(r.stdout).not.toContain('s3cr3t-pa55');
  });

  it('refuses to plan an invalid template', async () => {
    const r = await kiln(['plan', 'docker-app.json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });
});

describe('kiln --help', () => {
  it.each([
    ['validate', /syntax-only[\s\S]*machine-readable/],
    ['inspect', /sensitive/],
    ['plan', /--json/],
  ])('describes %s with its real options', async (verb, pattern) => {
    const r = await kiln([verb, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(pattern);
    expect(r.stdout).toContain('--var <name=value>');
  });

  it.each([
    [['channels', 'promote'], /<template> <build> <channel> <artifact>[\s\S]*--table <name>[\s\S]*KILN_REGISTRY_TABLE/],
    [['channels', 'rollback'], /<template> <build> <channel>[\s\S]*no earlier\s+assignment[\s\S]*--region <region>/],
    [['channels', 'list'], /<template>[\s\S]*--json/],
    [['artifacts', 'list'], /outdated[\s\S]*--build <name>/],
  ])('describes %j with its arguments and registry options', async (verbs, pattern) => {
    const r = await kiln([...verbs, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(pattern);
  });

  it('explains channels and their SSM parameter', async () => {
    const r = await kiln(['channels', '--help']);
    expect(r.stdout).toMatch(/\/kiln\/<template>\/<build>\/<channel>[\s\S]*aws:ec2:image/);
    for (const sub of ['promote', 'rollback', 'list']) expect(r.stdout).toContain(sub);
  });

  it('lists every verb at the top level and fails on an unknown one', async () => {
    const help = await kiln(['--help']);
    for (const verb of ['validate', 'inspect', 'plan', 'channels', 'artifacts']) expect(help.stdout).toContain(verb);
    const bad = await kiln(['frobnicate']);
    expect(bad.code).toBe(1);
  });
});
