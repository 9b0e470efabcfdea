/**
 * The docker host scripts run under real bash against a fake `docker` that records argv (fake-docker.ts): each
 * builder option and each step is asserted as the exact argv sequence the engine would receive, and every
 * rendered script passes shellcheck. The reference template (examples/docker-python-app.json) is loaded,
 * planned and rendered end to end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type DockerHostContext,
  type FinishContext,
  renderCleanup,
  renderDockerHost,
  renderFinish,
  renderPrepare,
  renderProvisioner,
} from '../../../core/docker/host.ts';
import { planTemplate } from '../../../core/plan/plan.ts';
import type { Config } from '../../../core/template/model.ts';
import { loadTemplate } from '../../../core/validation/load.ts';
import { FAKE_CID, FAKE_IMAGE, makeFakeHost, shellcheck } from './fake-docker.ts';

const host = makeFakeHost();
afterAll(() => host.dispose());
beforeEach(() => host.reset());

const REGISTRY = { account: '123456789012', region: 'eu-west-1' };
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ctx = (extra: Partial<FinishContext> = {}): FinishContext => ({
  buildId: 'kb-1',
  buildName: 'docker',
  registry: REGISTRY,
  stateRoot: host.stateRoot,
  ...extra,
});
const rendered: string[] = [];
const keep = (script: string) => {
  rendered.push(script);
  return script;
};
const argvs = () => host.calls().map((c) => c.argv);
const runOk = (script: string, env?: Record<string, string>) => {
  const r = host.run(keep(script), env);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r;
};
const started = () => {
  mkdirSync(join(host.stateRoot, 'kb-1'), { recursive: true });
  writeFileSync(join(host.stateRoot, 'kb-1', 'container-id'), `${FAKE_CID}\n`);
};

/** `docker run` argv for a builder configuration (the prepare step's run call). */
function runArgv(config: Config): readonly string[] {
  runOk(renderPrepare({ image: 'img', commit: true, pull: false, ...config }, ctx()));
  const run = argvs().find((a) => a[0] === 'run');
  if (!run) throw new Error('no docker run');
  return run;
}
const FILES = `${host.stateRoot}/kb-1/files:/packer-files`;
const LABEL = ['--label', 'kiln.build-id=kb-1'];
const DEFAULT_RUN = ['-d', '-i', '-t', '--entrypoint=/bin/sh', '--', 'img'];
const OWNER = ['inspect', '--format', '{{.Config.User}}', '--', FAKE_CID];
/** fix_upload_owner (default true): the destination given to the container's user (root when it has none). */
const CHOWN = (dest: string, owner = 'root') => [
  'exec',
  '--user',
  'root',
  FAKE_CID,
  '/bin/sh',
  '-c',
  'chown -R "$1" "$2"',
  'sh',
  owner,
  dest,
];

describe('prepare: pull and docker run, option by option (plugin order)', () => {
  const cases: [string, Config, string[]][] = [
    ['defaults', {}, ['run', ...LABEL, '-v', FILES, ...DEFAULT_RUN]],
    [
      'device',
      { device: ['/dev/fuse', '/dev/kvm'] },
      ['run', ...LABEL, '--device', '/dev/fuse', '--device', '/dev/kvm', '-v', FILES, ...DEFAULT_RUN],
    ],
    [
      'cap_add / cap_drop',
      { cap_add: ['SYS_ADMIN'], cap_drop: ['NET_RAW'] },
      ['run', ...LABEL, '--cap-add', 'SYS_ADMIN', '--cap-drop', 'NET_RAW', '-v', FILES, ...DEFAULT_RUN],
    ],
    ['privileged', { privileged: true }, ['run', ...LABEL, '--privileged', '-v', FILES, ...DEFAULT_RUN]],
    ['privileged false', { privileged: false }, ['run', ...LABEL, '-v', FILES, ...DEFAULT_RUN]],
    ['runtime', { runtime: 'runsc' }, ['run', ...LABEL, '--runtime', 'runsc', '-v', FILES, ...DEFAULT_RUN]],
    [
      'platform',
      { platform: 'linux/arm64' },
      ['run', ...LABEL, '--platform', 'linux/arm64', '-v', FILES, ...DEFAULT_RUN],
    ],
    [
      'tmpfs',
      { tmpfs: ['/run:rw', '/tmp'] },
      ['run', ...LABEL, '--tmpfs', '/run:rw', '--tmpfs', '/tmp', '-v', FILES, ...DEFAULT_RUN],
    ],
    [
      'volumes sorted by host path, container_dir last',
      { volumes: { '/z': '/zz', '/a': '/aa' } },
      ['run', ...LABEL, '-v', '/a:/aa', '-v', '/z:/zz', '-v', FILES, ...DEFAULT_RUN],
    ],
    [
      'container_dir',
      { container_dir: '/work' },
      ['run', ...LABEL, '-v', `${host.stateRoot}/kb-1/files:/work`, ...DEFAULT_RUN],
    ],
    [
      'run_command with {{.Image}} rendered',
      { image: 'debian:12', run_command: ['-d', '-t', '--name', 'x', '{{ .Image }}', 'sleep', 'infinity'] },
      ['run', ...LABEL, '-v', FILES, '-d', '-t', '--name', 'x', 'debian:12', 'sleep', 'infinity'],
    ],
    [
      'everything, in the plugin order',
      {
        device: ['/dev/d'],
        cap_add: ['A'],
        cap_drop: ['B'],
        privileged: true,
        runtime: 'r',
        platform: 'p',
        tmpfs: ['/t'],
        volumes: { '/h': '/c' },
      },
      [
        'run',
        ...LABEL,
        '--device',
        '/dev/d',
        '--cap-add',
        'A',
        '--cap-drop',
        'B',
        '--privileged',
        '--runtime',
        'r',
        '--platform',
        'p',
        '--tmpfs',
        '/t',
        '-v',
        '/h:/c',
        '-v',
        FILES,
        ...DEFAULT_RUN,
      ],
    ],
  ];
  it.each(cases)('%s', (_name, config, expected) => {
    expect(runArgv(config)).toEqual(expected);
  });

  it('pulls by default (with --platform when set), records the container id, and skips the pull when pull = false', () => {
    runOk(renderPrepare({ image: 'python:3.9-slim', commit: true, platform: 'linux/amd64' }, ctx()));
    expect(argvs()[0]).toEqual(['pull', '--platform', 'linux/amd64', '--', 'python:3.9-slim']);
    expect(readFileSync(join(host.stateRoot, 'kb-1', 'container-id'), 'utf8')).toBe(`${FAKE_CID}\n`);
    host.reset();
    runOk(renderPrepare({ image: 'python:3.9-slim', commit: true, pull: false }, ctx()));
    expect(argvs().map((a) => a[0])).toEqual(['run']);
  });

  it('pulls and runs the digest PrepareBuild resolved for the tag, saying which tag it pins', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const r = runOk(
      renderPrepare(
        { image: 'python:3.9-slim', commit: true },
        ctx({ baseImage: { reference: 'python:3.9-slim', digest } }),
      ),
    );
    expect(argvs()).toEqual([
      ['pull', '--', `python@${digest}`],
      ['run', ...LABEL, '-v', FILES, '-d', '-i', '-t', '--entrypoint=/bin/sh', '--', `python@${digest}`],
    ]);
    expect(r.stdout).toContain(`pulling python:3.9-slim pinned to ${digest}`);
    host.reset();
    // Same registry and repository as written; {{.Image}} in run_command is the pinned reference too.
    runOk(
      renderPrepare(
        { image: 'myhost:5000/team/app:1.0', commit: true, run_command: ['-d', '--', '{{.Image}}'] },
        ctx({ baseImage: { reference: 'myhost:5000/team/app:1.0', digest } }),
      ),
    );
    expect(argvs()).toEqual([
      ['pull', '--', `myhost:5000/team/app@${digest}`],
      ['run', ...LABEL, '-v', FILES, '-d', '--', `myhost:5000/team/app@${digest}`],
    ]);
  });

  it('a reference already pinned by digest is pulled as is; unresolved pulls the tag; pull = false runs the image as given', () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    const pinned = `python:3.9-slim@sha256:${'d'.repeat(64)}`;
    let r = runOk(renderPrepare({ image: pinned, commit: true }, ctx({ baseImage: { reference: pinned, digest } })));
    expect(argvs().map((a) => a.at(-1))).toEqual([pinned, pinned]);
    expect(r.stdout).not.toContain('pinned to');
    host.reset();
    r = runOk(
      renderPrepare({ image: 'python:3.9-slim', commit: true }, ctx({ baseImage: { reference: 'python:3.9-slim' } })),
    );
    expect(argvs().map((a) => a.at(-1))).toEqual(['python:3.9-slim', 'python:3.9-slim']);
    expect(r.stdout).not.toContain('pinned to');
    host.reset();
    // A digest resolved for another reference is not this image's.
    runOk(
      renderPrepare(
        { image: 'python:3.9-slim', commit: true },
        ctx({ baseImage: { reference: 'python:3.12', digest } }),
      ),
    );
    expect(argvs().map((a) => a.at(-1))).toEqual(['python:3.9-slim', 'python:3.9-slim']);
    host.reset();
    runOk(
      renderPrepare(
        { image: 'python:3.9-slim', commit: true, pull: false },
        ctx({ baseImage: { reference: 'python:3.9-slim', digest } }),
      ),
    );
    expect(argvs()).toEqual([
      ['run', ...LABEL, '-v', FILES, '-d', '-i', '-t', '--entrypoint=/bin/sh', '--', 'python:3.9-slim'],
    ]);
  });

  it('refuses Windows containers and Dockerfile builds, which the builder host does not run', () => {
    expect(() => renderPrepare({ image: 'i', commit: true, windows_container: true }, ctx())).toThrow(
      /Linux containers only/,
    );
    expect(() => renderPrepare({ build: { path: 'Dockerfile' }, commit: true }, ctx())).toThrow(/Dockerfile/);
  });

  it('refuses run_command template fields other than {{.Image}}', () => {
    expect(() => renderPrepare({ image: 'i', commit: true, run_command: ['{{.Name}}'] }, ctx())).toThrow(
      /only \{\{\.Image\}\}/,
    );
  });

  it('fails, and removes the build containers, when docker run prints no container id', () => {
    const r = host.run(renderPrepare({ image: 'i', commit: true, pull: false }, ctx()), {
      FAKE_RUN_OUT: 'Hello from the container',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('did not print a container id');
    expect(argvs().slice(1)).toEqual([
      ['ps', '-aq', '--filter', 'label=kiln.build-id=kb-1'],
      ['rm', '-f', '--', FAKE_CID],
    ]);
  });
});

describe('registry login: the password never reaches an argv', () => {
  it('login with username and password: password on stdin, logout after the pull, credentials folder removed', () => {
    runOk(
      renderPrepare(
        {
          image: 'reg.example.com/team/app:1',
          commit: true,
          login: true,
          login_server: 'reg.example.com',
          login_username: 'bob',
          login_password: "s3cr'et$(x)",
        },
        ctx(),
      ),
    );
    const calls = host.calls();
    expect(calls.slice(0, 3)).toEqual([
      { argv: ['login', '--username', 'bob', '--password-stdin', '--', 'reg.example.com'], stdin: "s3cr'et$(x)" },
      { argv: ['pull', '--', 'reg.example.com/team/app:1'] },
      { argv: ['logout', '--', 'reg.example.com'] },
    ]);
    expect(JSON.stringify(calls.map((c) => c.argv))).not.toContain('s3cr');
  });

  it('ecr_login: the token comes from the host role (aws ecr get-login-password) for the server region, or from the pipeline', () => {
    const config = { image: `${ECR}/base:1`, commit: true, ecr_login: true, login_server: `https://${ECR}/` };
    runOk(renderPrepare(config, ctx()));
    expect(host.awsCalls()).toEqual(['ecr get-login-password --region eu-west-1']);
    expect(host.calls()[0]).toEqual({
      argv: ['login', '--username', 'AWS', '--password-stdin', '--', ECR],
      stdin: 'ecr-token-from-cli',
    });
    host.reset();
    const script = renderPrepare(config, ctx({ ecrPassword: 'token-from-lambda' }));
    runOk(script);
    expect(host.calls()[0]).toEqual({
      argv: ['login', '--username', 'AWS', '--password-stdin', '--', ECR],
      stdin: 'token-from-lambda',
    });
  });

  it('no login without pull (Packer logs in only to pull)', () => {
    runOk(renderPrepare({ image: 'i', commit: true, pull: false, login: true, login_password: 'pw' }, ctx()));
    expect(argvs().map((a) => a[0])).toEqual(['run']);
  });
});

describe('build context', () => {
  it('is fetched, extracted and copied into the container working directory (or / when the image has none)', () => {
    const archive = join(host.root, 'context.tar.gz');
    const src = join(host.root, 'ctx-src');
    mkdirSync(join(src, 'tests'), { recursive: true });
    writeFileSync(join(src, 'requirements.txt'), 'six\n');
    writeFileSync(join(src, 'tests', 'test_app.py'), 'pass\n');
    expect(spawnSync('tar', ['-czf', archive, '-C', src, '.']).status).toBe(0);
    for (const [workdir, target] of [
      ['/app', '/app'],
      ['', '/'],
    ]) {
      host.reset();
      runOk(renderPrepare({ image: 'i', commit: true, pull: false }, ctx({ buildContextUrl: `stub:${archive}` })), {
        FAKE_WORKDIR: workdir as string,
      });
      expect(argvs().slice(1)).toEqual([
        ['inspect', '--format', '{{.Config.WorkingDir}}', '--', FAKE_CID],
        ['cp', '--', `${host.stateRoot}/kb-1/context/.`, `${FAKE_CID}:${target}`],
      ]);
      expect(readFileSync(join(host.stateRoot, 'kb-1', 'context', 'tests', 'test_app.py'), 'utf8')).toBe('pass\n');
    }
  });
});

describe('provisioners inside the container', () => {
  const pctx = (extra = {}) => ({ ...ctx(), files: new Map(), ...extra });
  it('shell inline: docker cp the script, chmod, execute_command through docker exec, remove it', () => {
    started();
    runOk(
      renderProvisioner(
        { image: 'i' },
        { index: 2, type: 'shell', config: { inline: ['echo hi'], environment_vars: ['A=b c'] } },
        pctx(),
      ),
    );
    expect(argvs()).toEqual([
      OWNER,
      ['cp', '--', `${host.stateRoot}/kb-1/p2/script_0.sh`, `${FAKE_CID}:/tmp/script_2_0.sh`],
      CHOWN('/tmp/script_2_0.sh'),
      ['exec', '-i', FAKE_CID, '/bin/sh', '-c', '(chmod 0755 /tmp/script_2_0.sh)'],
      [
        'exec',
        '-i',
        FAKE_CID,
        '/bin/sh',
        '-c',
        "(chmod +x /tmp/script_2_0.sh; A='b c' PACKER_BUILDER_TYPE='docker' PACKER_BUILD_NAME='docker'  /tmp/script_2_0.sh)",
      ],
      ['exec', '-i', FAKE_CID, '/bin/sh', '-c', '(rm -f /tmp/script_2_0.sh)'],
    ]);
  });

  it('exec_user becomes docker exec -u; valid_exit_codes are honoured; a failure exits with the code and keeps the container', () => {
    started();
    const script = renderProvisioner(
      { image: 'i', exec_user: 'app' },
      { index: 0, type: 'shell', config: { inline: ['false'], valid_exit_codes: ['0', '3'] } },
      pctx(),
    );
    runOk(script, { FAKE_EXEC_RC: '3' });
    expect(argvs()[3]).toEqual([
      'exec',
      '-i',
      '-u',
      'app',
      FAKE_CID,
      '/bin/sh',
      '-c',
      '(chmod 0755 /tmp/script_0_0.sh)',
    ]);
    host.reset();
    const r = host.run(script, { FAKE_EXEC_RC: '7' });
    expect(r.status).toBe(7);
    expect(r.stderr).toContain('Inline script exited with non-zero exit status: 7');
    expect(argvs().some((a) => a[0] === 'rm' || a[0] === 'ps')).toBe(false);
  });

  it('shell scripts: fetched on the host first, then copied and run in order', () => {
    started();
    const a = join(host.root, 'a.sh');
    writeFileSync(a, 'echo a\n');
    const files = new Map([['a.sh', { path: 'a.sh', directory: false, entries: [{ subPath: '', url: `stub:${a}` }] }]]);
    runOk(
      renderProvisioner(
        { image: 'i' },
        { index: 1, type: 'shell', config: { scripts: ['a.sh'], skip_clean: true } },
        pctx({ files }),
      ),
    );
    expect(argvs().map((x) => x.slice(0, 2).concat(x.slice(-1)))).toEqual([
      ['inspect', '--format', FAKE_CID],
      ['cp', '--', `${FAKE_CID}:/tmp/script_1_0.sh`],
      ['exec', '--user', '/tmp/script_1_0.sh'],
      ['exec', '-i', '(chmod 0755 /tmp/script_1_0.sh)'],
      [
        'exec',
        '-i',
        "(chmod +x /tmp/script_1_0.sh; PACKER_BUILDER_TYPE='docker' PACKER_BUILD_NAME='docker'  /tmp/script_1_0.sh)",
      ],
    ]);
  });

  it('file upload (file and directory) through docker cp; download back through a presigned PUT', () => {
    started();
    const f = join(host.root, 'app.conf');
    writeFileSync(f, 'x=1\n');
    const files = new Map([
      ['app.conf', { path: 'app.conf', directory: false, entries: [{ subPath: '', url: `stub:${f}` }] }],
      ['conf', { path: 'conf', directory: true, entries: [{ subPath: 'a/b.txt', url: `stub:${f}` }] }],
    ]);
    runOk(
      renderProvisioner(
        { image: 'i' },
        { index: 0, type: 'file', config: { source: 'app.conf', destination: '/etc/app/' } },
        pctx({ files }),
      ),
    );
    expect(argvs()).toEqual([
      OWNER,
      ['cp', '--', `${host.stateRoot}/kb-1/p0/src0/file`, `${FAKE_CID}:/etc/app/app.conf`],
      CHOWN('/etc/app/app.conf'),
    ]);
    host.reset();
    runOk(
      renderProvisioner(
        { image: 'i' },
        { index: 0, type: 'file', config: { source: 'conf', destination: '/etc' } },
        pctx({ files }),
      ),
    );
    // "conf" (no trailing slash): the folder itself, as the communicator's UploadDir (`docker cp conf <id>:/etc`).
    expect(argvs()).toEqual([
      OWNER,
      ['cp', '--', `${host.stateRoot}/kb-1/p0/src0/conf`, `${FAKE_CID}:/etc`],
      CHOWN('/etc'),
    ]);
    host.reset();
    const out = join(host.root, 'downloaded');
    runOk(
      renderProvisioner(
        { image: 'i' },
        { index: 0, type: 'file', config: { source: '/var/log/x', destination: 'x', direction: 'download' } },
        pctx({ uploadUrl: `stub:${out}` }),
      ),
    );
    expect(argvs()).toEqual([OWNER, ['cp', '--', `${FAKE_CID}:/var/log/x`, `${host.stateRoot}/kb-1/p0/download`]]);
    expect(readFileSync(out, 'utf8')).toBe('FROM-CONTAINER:/var/log/x');
  });

  it('refuses provisioners that cannot run in the container', () => {
    expect(() => renderProvisioner({}, { index: 0, type: 'powershell', config: {} }, pctx())).toThrow(
      /cannot run in a docker container/,
    );
  });
});

describe('finish: commit, export or discard, container removed, then the post-processors', () => {
  it('commit with author, changes and message; the container is removed before post-processors', () => {
    started();
    const { script } = renderFinish(
      {
        config: {
          image: 'i',
          commit: true,
          author: 'Ann <a@x>',
          changes: ['ENV A=1', 'CMD ["python"]'],
          message: 'built',
        },
        postProcessors: [],
      },
      ctx(),
    );
    const r = runOk(script);
    expect(r.stdout).toBe(`kiln:image-id ${FAKE_IMAGE}\n`);
    expect(argvs()).toEqual([
      [
        'commit',
        '--author',
        'Ann <a@x>',
        '--change',
        'ENV A=1',
        '--change',
        'CMD ["python"]',
        '--message',
        'built',
        '--',
        FAKE_CID,
      ],
      ['rm', '-f', '--', FAKE_CID],
    ]);
  });

  it('export_path: docker export to a host file, uploaded with its presigned PUT', () => {
    started();
    const dest = join(host.root, 'exported.tar');
    const { script, plan } = renderFinish(
      { config: { image: 'i', export_path: 'out/image.tar' }, postProcessors: [] },
      ctx({ uploads: new Map([['out/image.tar', `stub:${dest}`]]) }),
    );
    runOk(script);
    expect(argvs()).toEqual([
      ['export', '--', FAKE_CID],
      ['rm', '-f', '--', FAKE_CID],
    ]);
    expect(readFileSync(dest, 'utf8')).toBe(`TAR:${FAKE_CID}`);
    expect(plan.artifacts).toEqual([{ builderId: 'packer.docker', id: 'out/image.tar', files: ['out/image.tar'] }]);
  });

  it('discard: only the removal, no artifact', () => {
    started();
    const { script, plan } = renderFinish(
      {
        config: { image: 'i', discard: true },
        postProcessors: [[{ type: 'docker-tag', config: { repository: 'x' } }]],
      },
      ctx(),
    );
    runOk(script);
    expect(argvs()).toEqual([['rm', '-f', '--', FAKE_CID]]);
    expect(plan).toEqual({ steps: [], artifacts: [], published: [] });
  });

  it('export then docker-import, docker-save and an explicit push to another registry with login', () => {
    started();
    const { script } = renderFinish(
      {
        config: { image: 'i', export_path: 'image.tar' },
        postProcessors: [
          [
            { type: 'docker-import', config: { repository: 'ghcr.io/org/app', tag: '1.0', changes: ['USER app'] } },
            { type: 'docker-save', config: { path: 'saved.tar' } },
            {
              type: 'docker-push',
              config: { login: true, login_server: 'ghcr.io', login_username: 'u', login_password: 'p4ss' },
            },
          ],
        ],
      },
      ctx(),
    );
    runOk(script);
    expect(host.calls()).toEqual([
      { argv: ['export', '--', FAKE_CID] },
      { argv: ['rm', '-f', '--', FAKE_CID] },
      { argv: ['import', '--change', 'USER app', '--', '-', 'ghcr.io/org/app:1.0'] },
      { argv: ['save', '--', 'ghcr.io/org/app:1.0'] },
      { argv: ['login', '--username', 'u', '--password-stdin', '--', 'ghcr.io'], stdin: 'p4ss' },
      { argv: ['push', '--', 'ghcr.io/org/app:1.0'] },
      { argv: ['logout', '--', 'ghcr.io'] },
    ]);
    expect(readFileSync(join(host.stateRoot, 'kb-1', 'artifacts', 'file-1'), 'utf8')).toBe('TAR:ghcr.io/org/app:1.0');
  });

  it('a failing commit removes the build containers', () => {
    started();
    const { script } = renderFinish({ config: { image: 'i', commit: true }, postProcessors: [] }, ctx());
    const r = host.run(script.replace('kiln_image=$(docker commit', 'false; kiln_image=$(docker commit'));
    expect(r.status).toBe(1);
    expect(argvs()).toEqual([
      ['ps', '-aq', '--filter', 'label=kiln.build-id=kb-1'],
      ['rm', '-f', '--', FAKE_CID],
    ]);
  });
});

describe('cleanup', () => {
  it('removes the labelled containers and the state folder, and never fails', () => {
    started();
    runOk(renderCleanup(ctx()));
    expect(argvs()).toEqual([
      ['ps', '-aq', '--filter', 'label=kiln.build-id=kb-1'],
      ['rm', '-f', '--', FAKE_CID],
    ]);
    expect(existsSync(join(host.stateRoot, 'kb-1'))).toBe(false);
    runOk(renderCleanup(ctx()));
  });

  it('refuses a build id that is not a plain name', () => {
    expect(() => renderCleanup({ ...ctx(), buildId: '../x' } as DockerHostContext)).toThrow(/not a build id/);
  });
});

describe('the reference template examples/docker-python-app.json, end to end', () => {
  it('loads, plans and renders to the exact argv sequence', async () => {
    const loaded = await loadTemplate(join(process.cwd(), 'examples', 'docker-python-app.json'));
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const build = planTemplate(loaded.template as NonNullable<typeof loaded.template>).builds[0];
    if (!build) throw new Error('no build');
    const scripts = renderDockerHost(build, ctx());
    const all = [scripts.prepare, ...scripts.provisioners, scripts.finish, scripts.cleanup];
    for (const s of all) runOk(s);
    expect(host.calls()).toEqual([
      { argv: ['pull', '--', 'python:3.9-slim'] },
      { argv: ['run', ...LABEL, '-v', FILES, '-d', '-i', '-t', '--entrypoint=/bin/sh', '--', 'python:3.9-slim'] },
      { argv: OWNER },
      {
        argv: ['cp', '--', `${host.stateRoot}/kb-1/p0/script_0.sh`, `${FAKE_CID}:/tmp/script_0_0.sh`],
        content: '#!/bin/sh -e\npip install -r requirements.txt\npython -m unittest discover tests/\n',
      },
      { argv: CHOWN('/tmp/script_0_0.sh') },
      { argv: ['exec', '-i', FAKE_CID, '/bin/sh', '-c', '(chmod 0755 /tmp/script_0_0.sh)'] },
      {
        argv: [
          'exec',
          '-i',
          FAKE_CID,
          '/bin/sh',
          '-c',
          "(chmod +x /tmp/script_0_0.sh; PACKER_BUILDER_TYPE='docker' PACKER_BUILD_NAME='docker'  /tmp/script_0_0.sh)",
        ],
      },
      { argv: ['exec', '-i', FAKE_CID, '/bin/sh', '-c', '(rm -f /tmp/script_0_0.sh)'] },
      { argv: ['commit', '--', FAKE_CID] },
      { argv: ['rm', '-f', '--', FAKE_CID] },
      { argv: ['tag', '--', FAKE_IMAGE, 'my-python-app'] },
      { argv: ['tag', '--', FAKE_IMAGE, `${ECR}/my-python-app:latest`] },
      { argv: ['login', '--username', 'AWS', '--password-stdin', '--', ECR], stdin: 'ecr-token-from-cli' },
      { argv: ['tag', '--', `${ECR}/my-python-app:latest`, `${ECR}/my-python-app:kb-1`] },
      { argv: ['push', '--', `${ECR}/my-python-app:kb-1`] },
      { argv: ['push', '--', `${ECR}/my-python-app:latest`] },
      { argv: ['logout', '--', ECR] },
      { argv: ['ps', '-aq', '--filter', 'label=kiln.build-id=kb-1'] },
      { argv: ['rm', '-f', '--', FAKE_CID] },
    ]);
    expect(scripts.plan.artifacts).toEqual([
      { builderId: 'packer.post-processor.docker-tag', id: 'my-python-app', tags: [] },
      { builderId: 'packer.post-processor.docker-import', ref: { kind: 'committed' } },
    ]);
    expect(scripts.plan.published.map((p) => [p.repository.uri, p.tags])).toEqual([
      [`${ECR}/my-python-app`, ['latest', 'kb-1']],
    ]);
  });
});

describe('shellcheck', () => {
  it('every script rendered in this file is clean', () => {
    expect(rendered.length).toBeGreaterThan(20);
    expect(shellcheck(rendered, host.root)).toBe('');
  });
});
