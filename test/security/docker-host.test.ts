/**
 * Hostile template values through every position where a docker build puts one into a host script: each
 * rendered step runs under real bash with a fake `docker` recording argv (test/unit/docker/fake-docker.ts). A
 * case passes when no marker file appears AND the value arrives as exactly one argv item, byte for byte (or,
 * where docker could never accept it — repository names and tags Kiln publishes — when Kiln refuses it).
 * With FAKE_EXEC_REAL the container command runs under /bin/sh here, so a value's trip through both quoting
 * layers (host script → `docker exec … sh -c`) is checked too. Every rendered script also passes shellcheck.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type FinishContext, renderFinish, renderPrepare, renderProvisioner } from '../../core/docker/host.ts';
import { planDockerPostProcessors } from '../../core/docker/postprocess.ts';
import { FAKE_CID, FAKE_IMAGE, makeFakeHost, shellcheck } from '../unit/docker/fake-docker.ts';

const host = makeFakeHost();
const MARK = join(host.root, 'PWNED');
afterAll(() => host.dispose());
beforeEach(() => {
  host.reset();
  rmSync(MARK, { force: true });
});

/** `@M@` stands for the marker path. */
const RAW: readonly (readonly [string, string])[] = [
  ['command substitution', '$(touch @M@)'],
  ['backticks', '`touch @M@`'],
  ['single-quote breakout', "'; touch @M@; '"],
  ['double-quote breakout', '"; touch @M@; "'],
  ['newline then command', 'a\ntouch @M@\n'],
  ['carriage return', 'a\rtouch @M@'],
  ['semicolon and pipe', ';touch @M@ | touch @M@'],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${IFS} is the payload
  ['IFS splitting', '${IFS}touch${IFS}@M@'],
  ['heredoc delimiter', 'x\nKILN_EOF\ntouch @M@\nKILN_EOF_1'],
  ['pre-escaped quotes', `'"'"'$(touch @M@)'"'"'`],
  ['ANSI-C quote', "$'\\x27; touch @M@'"],
  ['leading dashes', '--privileged -v /:/host'],
  ['globs', '* ? [a-z] ~'],
  ['Go template', '{{.Image}} {{ .Name }}'],
  ['Unicode', 'é 日本語 🙂 \u2018q\u2019'],
];
const PAYLOADS = RAW.map(([name, p]) => [name, p.replace(/@M@/g, () => MARK)] as const);

const ctx = (): FinishContext => ({
  buildId: 'kb-1',
  buildName: 'docker',
  registry: { account: '123456789012', region: 'us-east-1' },
  stateRoot: host.stateRoot,
  publish: false,
});
const rendered: string[] = [];
function run(script: string, env: Record<string, string> = {}) {
  rendered.push(script);
  const r = host.run(script, env);
  expect(existsSync(MARK)).toBe(false);
  return r;
}
const started = () => {
  mkdirSync(join(host.stateRoot, 'kb-1'), { recursive: true });
  writeFileSync(join(host.stateRoot, 'kb-1', 'container-id'), `${FAKE_CID}\n`);
};
const argv = (cmd: string) => host.calls().find((c) => c.argv[0] === cmd)?.argv ?? [];

describe.each(PAYLOADS)('%s', (_name, p) => {
  it('builder options reach docker run, pull and commit as single literal arguments', () => {
    const r = run(
      renderPrepare(
        {
          image: p,
          commit: true,
          device: [p],
          cap_add: [p],
          cap_drop: [p],
          runtime: p,
          platform: p,
          tmpfs: [p],
          volumes: { [p]: p },
          container_dir: p,
          // A run_command item with another template field is refused (host.test.ts); the image may hold anything.
          run_command: ['-d', p.includes('{{') ? 'x' : p, '{{.Image}}'],
          login: true,
          login_server: p,
          login_username: p,
          login_password: p,
        },
        ctx(),
      ),
    );
    expect(r.status).toBe(0);
    const calls = host.calls();
    expect(calls[0]).toEqual({ argv: ['login', '--username', p, '--password-stdin', '--', p], stdin: p });
    expect(calls[1]).toEqual({ argv: ['pull', '--platform', p, '--', p] });
    expect(calls[2]).toEqual({ argv: ['logout', '--', p] });
    expect(argv('run')).toEqual([
      'run',
      '--label',
      'kiln.build-id=kb-1',
      '--device',
      p,
      '--cap-add',
      p,
      '--cap-drop',
      p,
      '--runtime',
      p,
      '--platform',
      p,
      '--tmpfs',
      p,
      '-v',
      `${p}:${p}`,
      '-v',
      `${host.stateRoot}/kb-1/files:${p}`,
      '-d',
      p.includes('{{') ? 'x' : p,
      p,
    ]);
  });

  it('commit author, changes and message; a docker-tag repository and docker-import fields stay literal', () => {
    started();
    const { script } = renderFinish(
      {
        config: { image: 'i', commit: true, author: p, changes: [p], message: p },
        postProcessors: [[{ type: 'docker-tag', config: { repository: p } }]],
      },
      ctx(),
    );
    expect(run(script).status).toBe(0);
    expect(argv('commit')).toEqual(['commit', '--author', p, '--change', p, '--message', p, '--', FAKE_CID]);
    expect(argv('tag')).toEqual(['tag', '--', FAKE_IMAGE, p]);
    host.reset();
    started();
    const exported = renderFinish(
      {
        config: { image: 'i', export_path: p },
        postProcessors: [
          [
            { type: 'docker-import', config: { repository: p, tag: p, changes: [p], platform: p } },
            { type: 'docker-save', config: { path: p } },
          ],
        ],
      },
      ctx(),
    );
    expect(run(exported.script).status).toBe(0);
    expect(argv('import')).toEqual(['import', '--change', p, '--platform', p, '--', '-', `${p}:${p}`]);
    expect(argv('save')).toEqual(['save', '--', `${p}:${p}`]);
  });

  it('a shell provisioner: script text, environment value and exec_user arrive byte for byte in the container', () => {
    started();
    const folder = join(host.root, 'ctr-tmp');
    mkdirSync(folder, { recursive: true });
    const out = join(host.root, 'out');
    rmSync(out, { force: true });
    const script = renderProvisioner(
      { image: 'i', exec_user: p },
      {
        index: 0,
        type: 'shell',
        config: {
          inline: [`# ${p.replace(/\n/g, ' ')}`, `printf %s "$V" > ${JSON.stringify(out)}`],
          environment_vars: [`V=${p}`],
          remote_folder: folder,
        },
      },
      { ...ctx(), files: new Map() },
    );
    const r = run(script, { FAKE_EXEC_REAL: '1' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(p);
    const execs = host.calls().filter((c) => c.argv[0] === 'exec' && c.argv[1] === '-i');
    expect(execs.length).toBe(3);
    for (const call of execs) expect(call.argv.slice(0, 4)).toEqual(['exec', '-i', '-u', p]);
  });

  it('a file provisioner destination and content stay literal', () => {
    started();
    const script = renderProvisioner(
      { image: 'i' },
      { index: 0, type: 'file', config: { content: p, destination: p } },
      { ...ctx(), files: new Map() },
    );
    expect(run(script).status).toBe(0);
    expect(host.calls()).toEqual([
      { argv: ['inspect', '--format', '{{.Config.User}}', '--', FAKE_CID] },
      { argv: ['cp', '--', `${host.stateRoot}/kb-1/p0/content`, `${FAKE_CID}:${p}`], content: p },
      { argv: ['exec', '--user', 'root', FAKE_CID, '/bin/sh', '-c', 'chown -R "$1" "$2"', 'sh', 'root', p] },
    ]);
  });

  it('repository names and tags Kiln publishes are refused, not quoted into a push', () => {
    const plan = (config: Record<string, unknown>) =>
      planDockerPostProcessors({
        mode: 'commit',
        chains: [[{ type: 'docker-tag', config }]],
        buildTag: 'kb-1',
        registry: { account: '123456789012', region: 'us-east-1' },
      });
    expect(() => plan({ repository: p })).toThrow(/not a valid|registry host|without a tag|repository path/);
    expect(() => plan({ repository: 'app', tags: [p] })).toThrow(/not a valid docker tag/);
  });
});

describe('NUL bytes', () => {
  it('are refused, since no shell can carry them', () => {
    expect(() => renderPrepare({ image: 'a\0b', commit: true }, ctx())).toThrow(/NUL/);
  });
});

describe('shellcheck', () => {
  it('every hostile rendering is clean', () => {
    expect(rendered.length).toBeGreaterThan(PAYLOADS.length * 4);
    expect(shellcheck(rendered, host.root)).toBe('');
  });
});
