/**
 * `npm start` run as a user would (a child process, no terminal): exit codes, the key lines of its report, and
 * that it leaves no process behind, also when stopped with SIGTERM mid-build.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_STACK_FILE_ENV } from '../../cli/local-stack.ts';
import { runKiln } from '../../cli/start-channels.ts';
import { KILN_FUNCTIONS } from '../../functions/registry.ts';

const ROOT = resolve(import.meta.dirname, '../..');

interface Run {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves when a stdout line matches. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
}

/** Each run's `--local` state file, apart from a developer's own `npm start -- --keep`. */
function stateFileFor(): string {
  return join(mkdtempSync(join(tmpdir(), 'kiln-start-state-')), 'local-stack.json');
}

function runStart(args: string[] = [], stateFile = stateFileFor()): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/start.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT', [LOCAL_STACK_FILE_ENV]: stateFile },
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(stdout);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolveDone) => child.on('close', (code, signal) => resolveDone({ code, signal, stdout, stderr })),
  );
  return {
    child,
    done,
    waitFor: (pattern) =>
      new Promise((resolveWait, reject) => {
        const match = pattern.exec(stdout);
        if (match) return resolveWait(match);
        waiters.push({ pattern, resolve: resolveWait });
        void done.then(() => reject(new Error(`npm start ended before printing ${pattern}:\n${stdout}\n${stderr}`)));
      }),
  };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start', () => {
  it('builds the example AMI and the docker reference bundle, reports what ran for real, stops everything and exits 0', async () => {
    const run = runStart();
    const motoPid = Number((await run.waitFor(/\(pid (\d+)\)/))[1]);
    const { code, stdout, stderr } = await run.done;
    // A Kiln.Transient is logged and retried by the state machine (seen on a loaded machine: a socket hang-up
    // reading a command result); anything else on stderr is a failure.
    const unexpected = stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('"errorName":"Kiln.Transient"'));
    expect(unexpected).toEqual([]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /uploaded examples\/amazon-ebs-basic to s3:\/\/\S+\/templates\/amazon-ebs-basic\/amazon-ebs-basic\.pkr\.hcl/,
    );
    expect(stdout).toMatch(/amazon-ebs\.web · RunProvisioner/);
    expect(stdout).toMatch(/build kb-\S+ SUCCEEDED in [\d.]+s/);
    expect(stdout).toMatch(/AMI ami-[0-9a-f]+ in us-east-1/);
    expect(stdout).toMatch(/AMI ami-[0-9a-f]+ in eu-west-1/);
    expect(stdout).toMatch(/manifest: s3:\/\/\S+\/manifests\/kb-\S+\/manifest\.json/);
    // The docker reference template, unchanged, from its example bundle: built, pushed, pulled back and run.
    expect(stdout).toMatch(
      /uploaded examples\/docker-python-app as the bundle s3:\/\/\S+\/templates\/docker-python-app\.tar\.gz/,
    );
    expect(stdout).toMatch(/docker · DockerRunStep/);
    const image = /image (\d{12}\.dkr\.ecr\.us-east-1\.amazonaws\.com\/my-python-app@sha256:[0-9a-f]{64})/.exec(stdout);
    expect(image).not.toBeNull();
    expect(stdout).toContain(`docker run ${image?.[1]}: Hello, Kiln!`);
    // Agent builds on a real kiln-agent process: the null and file builds, then the vmware reference refused.
    expect(stdout).toMatch(/kiln-agent ag-\S+ registered over http:\/\/127\.0\.0\.1:\d+\/v1\/ and polling/);
    expect(stdout).toMatch(/release-notes: SUCCEEDED/);
    expect(stdout).toContain(
      'vmware reference template: reached the agent, packer validate passed there, refused as expected (no VMware on this machine)',
    );
    // Channels with the real CLI: prod gets the first AMI, then the second build's, then the first again.
    expect(stdout).toMatch(
      /\$ kiln channels promote amazon-ebs-basic\/amazon-ebs-basic amazon-ebs\.web prod ka-[0-9a-f]{16} --local/,
    );
    // npm start's own reads of the parameter (the CLI's output lists it per region, indented).
    const values = [...stdout.matchAll(/^\[[\s\d.]+s\] \/kiln\/\S+\/prod = (ami-[0-9a-f]+)/gm)].map((m) => m[1]);
    expect(values).toHaveLength(3);
    expect(values[1]).not.toBe(values[0]);
    expect(values[2]).toBe(values[0]);
    expect(stdout).toMatch(/\$ kiln channels rollback amazon-ebs-basic\/amazon-ebs-basic amazon-ebs\.web prod --local/);
    expect(stdout).toContain('(the first build’s AMI again)');
    expect(stdout).toContain('Ran as deployed here:');
    // Every Lambda invocation served by a synthesized bundle, none from sources.
    expect(stdout).toMatch(
      /the Lambda handlers as the real bundles cdk synth staged .*: \d+ functions, [1-9]\d* invocations\n/,
    );
    expect(stdout).not.toMatch(/NOT as deployed/);
    expect(stdout).toMatch(
      new RegExp(`synthesized: Kiln \\((cached|\\d+ ms); ${KILN_FUNCTIONS.length} Lambda bundles\\)`),
    );
    // The build's calls replayed against the deployed policies, conditions included: many checked, none denied.
    expect(stdout).toMatch(/IAM replay: [1-9]\d+ authorization requests .*: 0 denied, 0 calls not modelled/);
    expect(stdout).toContain('Only simulated by the emulator:');
    expect(stdout).toMatch(/stopped \(done\): moto_server pid \d+/);
    expect(alive(motoPid)).toBe(false);
  }, 480_000);

  it('exits non-zero when the build fails, with the provisioner error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-start-failing-'));
    cpSync(join(ROOT, 'examples/amazon-ebs-basic'), dir, { recursive: true });
    const file = join(dir, 'amazon-ebs-basic.pkr.hcl');
    const failing = 'provisioner "shell" {\n    inline = ["exit 3"]\n  }\n';
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n}\s*$/, `\n  ${failing}}\n`));
    const { code, stdout } = await runStart(['--template', dir, '--no-docker', '--no-agents']).done;
    expect(code).toBe(1);
    expect(stdout).toMatch(/build kb-\S+ FAILED/);
    expect(stdout).toMatch(/error Kiln\.ProvisionerFailed: .*\b3\b/);
    expect(stdout).toMatch(/stopped \(done\)/);
  }, 240_000);

  it('with --keep stays up for `kiln … --local` (the CLI bundle) until a signal, then removes its state file', async () => {
    const stateFile = stateFileFor();
    const run = runStart(['--no-docker', '--no-agents', '--no-channels', '--keep'], stateFile);
    await run.waitFor(/stays up for `kiln … --local`/);
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    const listed = await runKiln(['artifacts', 'list', 'amazon-ebs-basic/amazon-ebs-basic'], stateFile);
    expect(listed.stderr).toBe('');
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(/ka-[0-9a-f]{16}/);
    expect(listed.stdout).toContain('amazon-ebs.web');
    run.child.kill('SIGTERM');
    const { code } = await run.done;
    expect(code).toBe(143);
    expect(existsSync(stateFile)).toBe(false);
    // And the CLI says the stack is gone instead of calling a dead endpoint.
    const after = await runKiln(['artifacts', 'list', 'x'], stateFile);
    expect(after.status).toBe(1);
    expect(after.stderr).toContain('no local stack');
  }, 240_000);

  it('stops moto and exits 143 on SIGTERM in the middle of a build', async () => {
    const run = runStart();
    const motoPid = Number((await run.waitFor(/\(pid (\d+)\)/))[1]);
    await run.waitFor(/build started by the upload/);
    run.child.kill('SIGTERM');
    const { code, stdout } = await run.done;
    expect(code).toBe(143);
    expect(stdout).toMatch(/stopped \(SIGTERM\)/);
    expect(alive(motoPid)).toBe(false);
  }, 240_000);
});
