/**
 * RunHostStep on the reference docker template (examples/docker-python-app.json, planned by the real engine): the
 * host step at the cursor goes to the builder host as one SSM command. prepare pulls and runs the container and
 * copies the build context in; the shell provisioner runs with `docker exec`; finish commits, tags and publishes
 * to the build's own ECR registry after ensuring the repository, logging in with a password that never appears in
 * SendCommand's parameters (the one-shot channel carries that script). Every script sent passes shellcheck.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import 'aws-sdk-client-mock-vitest/extend';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { KilnTagContext } from '../../../aws/tags.ts';
import type { PublishedRepository } from '../../../core/docker/postprocess.ts';
import type { EcrRegistry } from '../../../core/schema/docker-names.ts';
import {
  type EcrAccess,
  type RunHostStepDeps,
  runHostStep,
} from '../../../functions/ec2-docker/run-host-step/run-host-step.ts';
import type { Ec2DockerState } from '../../../functions/lib/build-state.ts';
import { DOCKER_STEP_TIMEOUT_SECONDS } from '../../../functions/lib/host-command.ts';
import type { StoredPlan } from '../../../functions/lib/plan-store.ts';
import { oneShotKeyFor } from '../../../functions/lib/sealed-values.ts';
import { shellcheck } from '../docker/fake-docker.ts';
import { CONTEXT, dockerHostState, dockerPlanText, referenceTemplate } from './docker-fakes.ts';
import { launchedState, mocks } from './fakes.ts';

const ACCOUNT = '123456789012';
const ECR = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
const ECR_PASSWORD = 'eyJwYXlsb2FkIjoiZWNyLXRva2VuLWZvci10ZXN0cyJ9';
const presign: RunHostStepDeps['presign'] = async (method, bucket, key) =>
  `https://${bucket}.s3.example/${key}?X-Amz-Signature=${method}`;

const scratch = mkdtempSync(join(tmpdir(), 'kiln-docker-stage-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function setup(planText?: string) {
  const m = mocks(planText ?? (await dockerPlanText()));
  m.ssm.on(ListCommandsCommand).resolves({ Commands: [] });
  m.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
  const calls: string[] = [];
  const ensured: {
    registry: EcrRegistry;
    published: readonly PublishedRepository[];
    tagContext: KilnTagContext | undefined;
  }[] = [];
  const ecr: EcrAccess = {
    ensure: vi.fn(async (registry, published, tagContext) => {
      calls.push('ensure');
      ensured.push({ registry, published, tagContext });
    }),
    password: vi.fn(async () => {
      calls.push('password');
      return ECR_PASSWORD;
    }),
  };
  const deps: RunHostStepDeps = {
    ...m.deps,
    ssmFor: () => m.ssmClient,
    presign,
    ecr,
    accountId: ACCOUNT,
    logGroup: '/kiln/provision',
  };
  const run = (state: Ec2DockerState) => runHostStep(deps, { state });
  const runAny = (payload: Parameters<typeof runHostStep>[1]) => runHostStep(deps, payload);
  return { ...m, calls, ensured, ecr, run, runAny };
}

type Setup = Awaited<ReturnType<typeof setup>>;

function sent(t: Setup, call = 0) {
  return t.ssm.commandCalls(SendCommandCommand)[call]?.args[0].input;
}
function sentScript(t: Setup, call = 0): string {
  return (sent(t, call)?.Parameters?.commands ?? []).join('\n');
}
/** The script a one-shot bootstrap fetches: the body PutObject stored under the build's secrets prefix. */
function oneShotScript(t: Setup, key: string): string {
  const put = t.s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === key);
  return String(put?.args[0].input.Body ?? '');
}
const failure = (p: Promise<unknown>) => p.then(() => undefined).catch((e: unknown) => e as Error);

describe('RunHostStep: prepare (cursor 0)', () => {
  it('pulls python:3.9-slim, runs the container, fetches the build context from its presigned URL', async () => {
    const t = await setup();
    const out = await t.run(dockerHostState(0));
    expect(t.ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(sent(t)).toMatchObject({
      InstanceIds: ['i-0dkr'],
      DocumentName: 'AWS-RunShellScript',
      Comment: 'kiln kb-test b0 p0 a0',
      OutputS3BucketName: 'kiln-artifacts',
      OutputS3KeyPrefix: 'builds/kb-test/logs/0/0-0',
      Parameters: { executionTimeout: [String(DOCKER_STEP_TIMEOUT_SECONDS)] },
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: '/kiln/provision' },
    });
    const script = sentScript(t);
    expect(script.split('\n')[0]).toBe('#!/bin/bash');
    expect(script).toContain('set -euo pipefail');
    expect(script).toContain('docker pull -- python:3.9-slim');
    expect(script).toContain(
      'kiln_cid=$(docker run --label kiln.build-id=kb-test -v "$kiln_state/files":/packer-files -d -i -t --entrypoint=/bin/sh -- python:3.9-slim </dev/null)',
    );
    expect(script).toContain(
      `kiln_fetch 'https://kiln-artifacts.s3.example/${CONTEXT.key}?X-Amz-Signature=GET' "$kiln_state/context.tar.gz"`,
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a JS placeholder
    expect(script).toContain('docker cp -- "$kiln_state/context/." "$kiln_cid:${kiln_workdir:-/}"');
    // The reference template logs in nowhere before the pull: no ECR password is asked for.
    expect(t.ecr.password).not.toHaveBeenCalled();
    expect(t.ecr.ensure).not.toHaveBeenCalled();
    expect(out.state.provision).toMatchObject({ index: 0, commandId: 'cmd-1', sentAt: '2026-01-01T00:00:00.000Z' });
    expect(out.wait).toEqual({ done: false, waitSeconds: 15 });
    expect(shellcheck([script], scratch)).toBe('');
  });

  it('records the build’s containers after the instance, so Cleanup removes them first', async () => {
    const t = await setup();
    const out = await t.run(dockerHostState(0));
    expect(out.state.created).toEqual([
      { kind: 'instance', region: 'us-east-1', id: 'i-0dkr' },
      { kind: 'docker-containers', region: 'us-east-1', instanceId: 'i-0dkr' },
    ]);
    // A retried prepare records them once.
    const again = await t.run(out.state);
    expect(again.state.created).toHaveLength(2);
  });

  it('copies no build context in when the plan has none', async () => {
    const t = await setup(await dockerPlanText(undefined, { context: false }));
    await t.run(dockerHostState(0));
    const script = sentScript(t);
    expect(script).toContain('docker pull -- python:3.9-slim');
    expect(script).not.toContain('kiln_fetch ');
    expect(script).not.toContain('docker cp');
  });

  it('pulls and runs the digest PrepareBuild resolved for python:3.9-slim (the stored plan’s baseImages)', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const stored = JSON.parse(await dockerPlanText()) as StoredPlan;
    const t = await setup(
      JSON.stringify({ ...stored, baseImages: { docker: { reference: 'python:3.9-slim', digest } } }),
    );
    await t.run(dockerHostState(0));
    const script = sentScript(t);
    expect(script).toContain(`echo 'pulling python:3.9-slim pinned to ${digest}'`);
    expect(script).toContain(`docker pull -- python@${digest}`);
    expect(script).not.toContain('docker pull -- python:3.9-slim');
    expect(script).toContain(`--entrypoint=/bin/sh -- python@${digest} </dev/null)`);
    expect(shellcheck([script], scratch)).toBe('');
  });

  it('logs in to an ecr_login registry around the pull with a pipeline password sent through the one-shot object', async () => {
    const template = referenceTemplate();
    Object.assign(template.builders[0] ?? {}, {
      image: `${ECR}/base/python:3.9-slim`,
      ecr_login: true,
      login_server: `https://${ECR}`,
    });
    const t = await setup(await dockerPlanText(template));
    await t.run(dockerHostState(0));
    expect(t.ecr.password).toHaveBeenCalledWith({ account: ACCOUNT, region: 'us-east-1' });
    const params = JSON.stringify(sent(t)?.Parameters);
    expect(params).not.toContain(ECR_PASSWORD);
    const key = oneShotKeyFor('kb-test', 'b0-p0-a0');
    expect(params).toContain(`https://kiln-artifacts.s3.example/${key}?X-Amz-Signature=GET`);
    const script = oneShotScript(t, key);
    expect(script).toContain(`printf '%s' '${ECR_PASSWORD}' | docker login --username AWS --password-stdin -- ${ECR}`);
    expect(script.indexOf('docker login')).toBeLessThan(script.indexOf('docker pull'));
    expect(shellcheck([script], scratch)).toBe('');
  });
});

describe('RunHostStep: provisioners (cursor 1..n)', () => {
  it('runs the shell provisioner inside the container with docker exec', async () => {
    const t = await setup();
    const out = await t.run(dockerHostState(1));
    expect(sent(t)).toMatchObject({ Comment: 'kiln kb-test b0 p1 a0', OutputS3KeyPrefix: 'builds/kb-test/logs/0/1-0' });
    // A shell provisioner without a timeout gets SSM's maximum, as on an AMI builder.
    expect(sent(t)?.Parameters?.executionTimeout).toEqual(['172800']);
    const script = sentScript(t);
    expect(script).toContain('pip install -r requirements.txt\npython -m unittest discover tests/\n');
    expect(script).toContain('kiln_cid=$(cat -- "$kiln_state/container-id")');
    expect(script).toContain(
      `kiln_exec 'chmod +x /tmp/script_0_0.sh; PACKER_BUILDER_TYPE='"'"'docker'"'"' PACKER_BUILD_NAME='"'"'docker'"'"'  /tmp/script_0_0.sh' || kiln_rc=$?`,
    );
    expect(script).toMatch(/docker exec -i .*"\$kiln_cid"/);
    // Only prepare records the containers; a provisioner leaves `created` as it was.
    expect(out.state.created).toEqual([{ kind: 'instance', region: 'us-east-1', id: 'i-0dkr' }]);
    expect(t.ecr.password).not.toHaveBeenCalled();
    expect(shellcheck([script], scratch)).toBe('');
  });

  it('waits pause_before first, then sends', async () => {
    const template = referenceTemplate();
    Object.assign(template.provisioners[0] ?? {}, { pause_before: '45s' });
    const t = await setup(await dockerPlanText(template));
    const paused = await t.run(dockerHostState(1));
    expect(paused.wait).toEqual({ done: false, waitSeconds: 45 });
    expect(paused.state.provision).toEqual({ index: 1, count: 3, attempt: 0, paused: true });
    expect(t.ssm).not.toHaveReceivedCommand(SendCommandCommand);
    const resumed = await t.run(paused.state);
    expect(t.ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(resumed.state.provision).toMatchObject({ index: 1, commandId: 'cmd-1' });
  });

  it('skips a breakpoint with a note and advances without sending anything', async () => {
    const template = referenceTemplate();
    template.provisioners.unshift({ type: 'breakpoint', note: 'look around' });
    const t = await setup(await dockerPlanText(template));
    const out = await t.run(dockerHostState(1, 4));
    expect(t.ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(out.wait).toEqual({ done: true, waitSeconds: 0 });
    expect(out.state.provision).toEqual({ index: 2, count: 4, attempt: 0 });
    expect(out.state.notes).toEqual(['provisioner #0 (breakpoint) skipped: it needs an interactive session']);
  });

  it.each([
    ['ansible', { type: 'ansible', playbook_file: 'site.yml' }],
    ['shell-local', { type: 'shell-local', inline: ['echo local'] }],
  ])('fails a %s provisioner with Kiln.ProvisionerFailed naming it, before sending anything', async (type, p) => {
    const template = referenceTemplate();
    template.provisioners.push(p);
    const t = await setup(await dockerPlanText(template, { files: { 'site.yml': '- hosts: all\n' } }));
    const err = await failure(t.run(dockerHostState(2, 4)));
    expect(err?.name).toBe('Kiln.ProvisionerFailed');
    expect(err?.message).toContain(`Provisioner #1 (${type}) cannot run in a docker build`);
    expect(t.ssm).not.toHaveReceivedCommand(SendCommandCommand);
  });

  it('a retried invocation finds the command it sent by its Comment instead of sending it twice', async () => {
    const t = await setup();
    t.ssm.on(ListCommandsCommand).resolves({
      Commands: [
        { CommandId: 'cmd-other', Comment: 'kiln kb-test b0 p0 a0' },
        { CommandId: 'cmd-earlier', Comment: 'kiln kb-test b0 p1 a0' },
      ],
    });
    const out = await t.run(dockerHostState(1));
    expect(t.ssm).toHaveReceivedCommandWith(ListCommandsCommand, { InstanceId: 'i-0dkr' });
    expect(t.ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(out.state.provision?.commandId).toBe('cmd-earlier');
  });

  it('sends a retry attempt as a new command (its own Comment)', async () => {
    const t = await setup();
    t.ssm.on(ListCommandsCommand).resolves({ Commands: [{ CommandId: 'cmd-a0', Comment: 'kiln kb-test b0 p1 a0' }] });
    const out = await t.run(dockerHostState(1, 3, { provision: { index: 1, count: 3, attempt: 1, paused: true } }));
    expect(sent(t)).toMatchObject({ Comment: 'kiln kb-test b0 p1 a1', OutputS3KeyPrefix: 'builds/kb-test/logs/0/1-1' });
    expect(out.state.provision?.commandId).toBe('cmd-1');
  });
});

describe('RunHostStep: finish (cursor n+1)', () => {
  it('ensures the own-registry repository with latest and the build id, then logs in with a password', async () => {
    const t = await setup();
    const out = await t.run(dockerHostState(2));
    // Its build id tag is recorded for Cleanup when finish is sent (a failure after the push must not leave it).
    expect(out.state.created).toEqual([
      { kind: 'instance', region: 'us-east-1', id: 'i-0dkr' },
      { kind: 'ecr-image', region: 'us-east-1', registryId: ACCOUNT, repository: 'my-python-app', tag: 'kb-test' },
    ]);
    expect(t.calls).toEqual(['ensure', 'password']);
    expect(t.ensured).toHaveLength(1);
    expect(t.ensured[0]?.registry).toEqual({ account: ACCOUNT, region: 'us-east-1' });
    expect(t.ensured[0]?.published).toHaveLength(1);
    expect(t.ensured[0]?.published[0]).toMatchObject({
      repository: {
        uri: `${ECR}/my-python-app`,
        path: 'my-python-app',
        ecr: { account: ACCOUNT, region: 'us-east-1' },
      },
      tags: ['latest', 'kb-test'],
    });
    // A repository the build creates gets the build's Kiln tags.
    expect(t.ensured[0]?.tagContext).toEqual({
      buildId: 'kb-test',
      executionName: 'exec-1',
      template: 's3://kiln-templates/templates/docker-python-app.zip',
      index: 0,
      name: 'docker',
    });
    expect(t.ecr.password).toHaveBeenCalledWith({ account: ACCOUNT, region: 'us-east-1' });
  });

  it('keeps the password out of SendCommand: the script goes through the one-shot object', async () => {
    const t = await setup();
    await t.run(dockerHostState(2));
    const input = sent(t);
    expect(input).toMatchObject({
      Comment: 'kiln kb-test b0 p2 a0',
      Parameters: { executionTimeout: [String(DOCKER_STEP_TIMEOUT_SECONDS)] },
    });
    const params = JSON.stringify(input);
    expect(params).not.toContain(ECR_PASSWORD);
    expect(params).not.toContain('docker login');
    const key = oneShotKeyFor('kb-test', 'b0-p2-a0');
    expect(params).toContain(`https://kiln-artifacts.s3.example/${key}?X-Amz-Signature=GET`);
    expect(params).toContain(`https://kiln-artifacts.s3.example/${key}?X-Amz-Signature=DELETE`);
    // The host steps are bash scripts: the bootstrap runs them with bash, not with the host's sh.
    expect(input?.Parameters?.commands).toContain('bash "$kiln_script"');
    const script = oneShotScript(t, key);
    expect(script).toContain('kiln_image=$(docker commit -- "$kiln_cid")');
    expect(script).toContain('docker tag -- "$kiln_image" my-python-app');
    expect(script).toContain(`printf '%s' '${ECR_PASSWORD}' | docker login --username AWS --password-stdin -- ${ECR}`);
    // The pipeline's password replaces the host's own `aws ecr get-login-password`.
    expect(script).not.toContain('get-login-password');
    expect(script).toContain(`docker push -- ${ECR}/my-python-app:latest`);
    expect(script).toContain(`docker push -- ${ECR}/my-python-app:kb-test`);
    expect(shellcheck([script, sentScript(t)], scratch)).toBe('');
  });

  it('sends the script inline when it reveals nothing (a build that publishes nothing asks for no password)', async () => {
    const template = referenceTemplate();
    template['post-processors'] = [];
    const t = await setup(await dockerPlanText(template));
    await t.run(dockerHostState(2));
    expect(t.ecr.ensure).not.toHaveBeenCalled();
    expect(t.ecr.password).not.toHaveBeenCalled();
    const script = sentScript(t);
    expect(script).toContain('kiln_image=$(docker commit -- "$kiln_cid")');
    expect(script).not.toContain('docker push');
    expect(t.s3).not.toHaveReceivedCommand(PutObjectCommand);
  });
});

describe('RunHostStep: its contract with the ASL', () => {
  it('is done at once when the cursor is past the last step', async () => {
    const t = await setup();
    const state = dockerHostState(3);
    const out = await t.run(state);
    expect(out).toEqual({ state, wait: { done: true, waitSeconds: 0 } });
    expect(t.s3).not.toHaveReceivedCommand(GetObjectCommand);
  });

  it('refuses a build state of another driver', async () => {
    const t = await setup();
    const err = await failure(t.runAny({ state: launchedState() }));
    expect(err?.message).toContain('this stage is for the ec2-docker driver, not ec2-ami');
    expect(t.ssm).not.toHaveReceivedCommand(SendCommandCommand);
  });

  it('every script it sends for the reference template is shellcheck-clean', async () => {
    const t = await setup();
    const scripts: string[] = [];
    for (const index of [0, 1, 2]) {
      t.ssm.resetHistory();
      t.s3.resetHistory();
      await t.run(dockerHostState(index));
      scripts.push(sentScript(t));
      const oneShot = t.s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
      if (oneShot) scripts.push(String(oneShot.Body));
    }
    // prepare, the provisioner, finish's bootstrap and finish itself.
    expect(scripts).toHaveLength(4);
    expect(shellcheck(scripts, scratch)).toBe('');
    // Also at shellcheck's default severity (style and info included), each as the agent's `_script.sh`.
    for (const script of scripts) {
      const r = spawnSync('shellcheck', ['-s', 'bash', '-'], { input: script, encoding: 'utf8' });
      expect(r.error).toBeUndefined();
      expect(r.stdout).toBe('');
      expect(r.status).toBe(0);
    }
  });
});
