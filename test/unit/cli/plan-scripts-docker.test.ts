/**
 * `kiln plan --scripts DIR` on the reference docker template (examples/docker-python-app.json, unchanged): the
 * builder host's steps as core/docker/host.ts renders them, placeholders marked, the build context listed, and
 * every step clean under shellcheck.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bufferedIO } from '../../../cli/io.ts';
import { ACCOUNT_PLACEHOLDER, BUILD_ID_PLACEHOLDER, REGION_PLACEHOLDER } from '../../../cli/plan-scripts.ts';
import { runCli } from '../../../cli/program.ts';
import { shellcheck } from '../docker/fake-docker.ts';

const REFERENCE = new URL('../../../examples/docker-python-app.json', import.meta.url).pathname;
const ECR = `${ACCOUNT_PLACEHOLDER}.dkr.ecr.${REGION_PLACEHOLDER}.amazonaws.com`;

describe('kiln plan --scripts on a docker build', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kiln-plan-docker-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const read = (...p: string[]) => readFileSync(join(root, 'out', 'docker', ...p), 'utf8');

  async function plan(cwd: string, ...args: string[]) {
    const io = bufferedIO({ cwd, env: {}, color: false });
    const code = await runCli(['plan', '--scripts', join(root, 'out'), ...args], io);
    return { code, stderr: io.stderr() };
  }

  it('writes the host steps of the reference template beside its app: key lines, placeholders, shellcheck-clean', async () => {
    const app = join(root, 'app');
    mkdirSync(join(app, 'tests'), { recursive: true });
    copyFileSync(REFERENCE, join(app, 'docker-python-app.json'));
    writeFileSync(join(app, 'requirements.txt'), 'requests\n');
    writeFileSync(join(app, 'tests', 'test_app.py'), 'import unittest\n');
    writeFileSync(join(app, 'prod.pkrvars.json'), '{}');
    writeFileSync(join(app, 'vars.json'), '{}');
    const { code, stderr } = await plan(app, '--var-file', 'vars.json', 'docker-python-app.json');
    expect(code).toBe(0);
    expect(stderr).toContain('Wrote 5 builder script(s)');
    expect(readdirSync(join(root, 'out', 'docker')).sort()).toEqual([
      '0-shell.sh',
      'build-context.txt',
      'cleanup.sh',
      'finish.sh',
      'prepare.sh',
    ]);
    const prepare = read('prepare.sh');
    const steps = ['prepare.sh', '0-shell.sh', 'finish.sh', 'cleanup.sh'].map((s) => read(s));
    for (const step of steps) {
      expect(step.split('\n')[0]).toBe('#!/bin/bash');
      expect(step).toContain(`# kiln plan --scripts: placeholders stand for what exists only when the pipeline runs`);
    }
    expect(prepare).toContain('set -euo pipefail');
    expect(prepare).toContain('docker pull -- python:3.9-slim');
    expect(prepare).toContain(
      `kiln_cid=$(docker run --label kiln.build-id=${BUILD_ID_PLACEHOLDER} -v "$kiln_state/files":/packer-files -d -i -t --entrypoint=/bin/sh -- python:3.9-slim </dev/null)`,
    );
    expect(prepare).toContain(
      `kiln_fetch 'KILN_PRESIGNED_GET_URL(.kiln/build-context.tar.gz)' "$kiln_state/context.tar.gz"`,
    );
    expect(prepare).toContain(`docker cp -- "$kiln_state/context/." "$kiln_cid:\${kiln_workdir:-/}"`);
    const shell = read('0-shell.sh');
    expect(shell).toContain('pip install -r requirements.txt\npython -m unittest discover tests/\n');
    expect(shell).toContain(
      `kiln_exec 'chmod +x /tmp/script_0_0.sh; PACKER_BUILDER_TYPE='"'"'docker'"'"' PACKER_BUILD_NAME='"'"'docker'"'"'  /tmp/script_0_0.sh' || kiln_rc=$?`,
    );
    const finish = read('finish.sh');
    expect(finish).toContain('kiln_image=$(docker commit -- "$kiln_cid")');
    expect(finish).toContain('docker tag -- "$kiln_image" my-python-app');
    expect(finish).toContain(`aws ecr get-login-password --region ${REGION_PLACEHOLDER} | docker login`);
    expect(finish).toContain(`docker push -- ${ECR}/my-python-app:latest`);
    expect(finish).toContain(`docker push -- ${ECR}/my-python-app:${BUILD_ID_PLACEHOLDER}`);
    expect(read('cleanup.sh')).toContain(`rm -rf -- "$kiln_state"`);
    // The app is the context; the template, its variable files and the --var-file given are not.
    expect(read('build-context.txt').split('\n').slice(1)).toEqual(['requirements.txt', 'tests/test_app.py', '']);
    expect(shellcheck(steps, root)).toBe('');
  });

  it('the template alone in its folder: no build context fetched, no listing', async () => {
    const app = join(root, 'alone');
    mkdirSync(app);
    copyFileSync(REFERENCE, join(app, 'docker-python-app.json'));
    const { code } = await plan(app, 'docker-python-app.json');
    expect(code).toBe(0);
    expect(readdirSync(join(root, 'out', 'docker'))).not.toContain('build-context.txt');
    expect(read('prepare.sh')).not.toContain('context.tar.gz');
    expect(read('prepare.sh')).not.toContain('docker cp');
  });

  it('a .kilnignore holding * turns the context off here as in the pipeline', async () => {
    const app = join(root, 'off');
    mkdirSync(app);
    copyFileSync(REFERENCE, join(app, 'docker-python-app.json'));
    writeFileSync(join(app, 'requirements.txt'), 'requests\n');
    writeFileSync(join(app, '.kilnignore'), '*\n');
    expect((await plan(app, 'docker-python-app.json')).code).toBe(0);
    expect(read('prepare.sh')).not.toContain('context.tar.gz');
  });
});
