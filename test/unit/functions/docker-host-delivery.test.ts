/**
 * A docker host step that carries a secret (finish's ECR password) as the SSM agent runs it: RunHostStep's
 * SendCommand `commands` written to `_script.sh` and run with `sh -c` (AWS-RunShellScript), here with /bin/sh as
 * this machine has it (dash on Debian, bash on Amazon Linux). The bootstrap fetches the one-shot script (a fake
 * curl serves what RunHostStep stored in S3), runs it, and the fake docker of test/unit/docker records what
 * happened: the login got the password on stdin and both tags were pushed. The host steps are bash scripts
 * (`set -o pipefail`, `local`), so the bootstrap must run them with bash, whatever `sh` is.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_STATE_ROOT } from '../../../core/docker/host.ts';
import { type RunHostStepDeps, runHostStep } from '../../../functions/ec2-docker/run-host-step/run-host-step.ts';
import { FAKE_IMAGE, makeFakeHost } from '../docker/fake-docker.ts';
import { dockerHostState, dockerPlanText } from './docker-fakes.ts';
import { mocks } from './fakes.ts';

const ACCOUNT = '123456789012';
const ECR = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
const ECR_PASSWORD = 'ecr-password-from-the-pipeline';
const host = makeFakeHost();
const s3Root = mkdtempSync(join(tmpdir(), 'kiln-fake-s3-'));
afterAll(() => {
  host.dispose();
  rmSync(s3Root, { recursive: true, force: true });
});

/** curl as the bootstrap uses it: GET `https://<bucket>.s3.example/<key>?…` → $FAKE_S3/<key>; DELETE removes it. */
const FAKE_CURL = `#!/bin/bash
out=''; method=GET; url=''
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    -X) method="$2"; shift 2 ;;
    --retry) shift 2 ;;
    -*) shift ;;
    *) url="$1"; shift ;;
  esac
done
key="\${url#https://*/}"; key="\${key%%\\?*}"
if [ "$method" = DELETE ]; then rm -f -- "$FAKE_S3/$key"; exit 0; fi
cp -- "$FAKE_S3/$key" "$out"
`;

describe('a docker host step delivered through the one-shot object, run as the SSM agent runs it', () => {
  it('runs finish under bash: commit, tag, login with the password on stdin, both pushes', async () => {
    const m = mocks(await dockerPlanText());
    m.ssm.on(ListCommandsCommand).resolves({ Commands: [] });
    m.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    const deps: RunHostStepDeps = {
      ...m.deps,
      ssmFor: () => m.ssmClient,
      presign: async (method, bucket, key) => `https://${bucket}.s3.example/${key}?X-Amz-Signature=${method}`,
      ecr: { ensure: async () => undefined, password: async () => ECR_PASSWORD },
      accountId: ACCOUNT,
    };
    await runHostStep(deps, { state: dockerHostState(2) });

    const put = m.s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put?.Key).toBe('secrets/kb-test/oneshot/b0-p2-a0');
    // The host's state folder, moved into this test's scratch space (the only change to the stored script).
    const stored = String(put?.Body).replace(`${DEFAULT_STATE_ROOT}/`, `${host.stateRoot}/`);
    expect(stored).toContain(`kiln_state=${host.stateRoot}/kb-test`);
    const object = join(s3Root, put?.Key ?? '');
    mkdirSync(dirname(object), { recursive: true });
    writeFileSync(object, stored);
    // prepare left the container id in the state folder.
    mkdirSync(join(host.stateRoot, 'kb-test'), { recursive: true });
    writeFileSync(join(host.stateRoot, 'kb-test', 'container-id'), 'c0ffee0123456789abcdef\n');

    const bin = mkdtempSync(join(tmpdir(), 'kiln-fake-curl-'));
    writeFileSync(join(bin, 'curl'), FAKE_CURL);
    chmodSync(join(bin, 'curl'), 0o755);
    const orchestration = mkdtempSync(join(tmpdir(), 'kiln-orchestration-'));
    const script = join(orchestration, '_script.sh');
    writeFileSync(
      script,
      (m.ssm.commandCalls(SendCommandCommand)[0]?.args[0].input.Parameters?.commands ?? []).join('\n'),
    );
    chmodSync(script, 0o700);
    host.reset();
    const r = spawnSync('sh', ['-c', script], {
      cwd: orchestration,
      // The agent's environment: no HOME.
      env: {
        PATH: `${bin}:${host.root}/bin:/usr/bin:/bin`,
        FAKE_LOG: join(host.root, 'docker.jsonl'),
        FAKE_S3: s3Root,
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    rmSync(bin, { recursive: true, force: true });
    rmSync(orchestration, { recursive: true, force: true });

    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(host.calls()).toEqual(
      expect.arrayContaining([
        { argv: ['commit', '--', 'c0ffee0123456789abcdef'] },
        { argv: ['tag', '--', FAKE_IMAGE, 'my-python-app'] },
        { argv: ['login', '--username', 'AWS', '--password-stdin', '--', ECR], stdin: ECR_PASSWORD },
        { argv: ['push', '--', `${ECR}/my-python-app:latest`] },
        { argv: ['push', '--', `${ECR}/my-python-app:kb-test`] },
      ]),
    );
    // The host never asked its own role for a password, and the one-shot object is gone.
    expect(host.awsCalls()).toEqual([]);
    expect(existsSync(object)).toBe(false);
  });
});
