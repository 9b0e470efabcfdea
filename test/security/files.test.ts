/**
 * A template upload is untrusted: every path it names must stay inside its folder in the pipeline, and every
 * read (pipeline and CLI) is a bounded read of a regular file. Each hostile input is tried against each
 * file-taking attribute and each file function, through `kiln validate|plan --pipeline` (the options
 * PrepareBuild uses) and through PrepareBuild itself with a mocked S3. Cases that could hang or exhaust memory
 * on a regression (a FIFO, /dev/zero) run the real CLI in a child process with a timeout and a heap cap, so a
 * regression fails the case instead of hanging the suite.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferedIO } from '../../cli/io.ts';
import { runCli } from '../../cli/program.ts';
import { TemplateInvalidError } from '../../core/errors.ts';
import { readRegularFile } from '../../core/files/read.ts';
import { provisionerOf } from '../../core/plan/typed.ts';
import { localPathForKey } from '../../functions/common/prepare-build/fetch-template.ts';
import { normalizeInput } from '../../functions/common/prepare-build/input.ts';
import { type PrepareDeps, prepareBuild } from '../../functions/common/prepare-build/prepare-build.ts';
import type { StoredPlan } from '../../functions/lib/plan-store.ts';
import { prepareDeps } from '../unit/functions/prepare-deps.ts';

const REPO = resolve(import.meta.dirname, '../..');
const ws = mkdtempSync(join(tmpdir(), 'kiln-sec-files-'));
const root = join(ws, 'root');
const OUTSIDE_SECRET = 'TOP-SECRET-OUTSIDE-THE-ROOT';
let socketServer: Server;

// The folder is built at load time: the cases below write their templates into it while being collected.
mkdirSync(join(root, 'dir'), { recursive: true });
mkdirSync(join(ws, 'outdir'));
writeFileSync(join(root, 'inside.sh'), 'echo inside\n');
writeFileSync(join(root, 'dir', 'x.txt'), 'x');
writeFileSync(join(ws, 'secret.txt'), OUTSIDE_SECRET);
writeFileSync(join(ws, 'outdir', 'leak.txt'), OUTSIDE_SECRET);
symlinkSync('inside.sh', join(root, 'link-inside'));
symlinkSync(join(ws, 'secret.txt'), join(root, 'link-outside'));
symlinkSync(join(ws, 'outdir'), join(root, 'dir-outside'));
symlinkSync(join(ws, 'secret.txt'), join(root, 'dir', 'leak-link'));
symlinkSync('/dev/zero', join(root, 'zero.json'));
execFileSync('mkfifo', [join(root, 'fifo')]);
execFileSync('mkfifo', [join(root, 'fifo.pkr.hcl')]);
writeFileSync(join(root, 'big.bin'), '');
truncateSync(join(root, 'big.bin'), 25 * 1024 * 1024); // sparse: over every limit, no disk used

/** Cases that could hang or blow up on a regression; they all run in one child process (see cli-batch.ts). */
const childCases: { id: string; argv: string[] }[] = [];
function viaChild(argv: string[]): string {
  const id = `c${childCases.length}`;
  childCases.push({ id, argv });
  return id;
}
const childResults = new Map<string, { code: number; out: string; err: string }>();
let childProblem = '';

beforeAll(async () => {
  socketServer = createServer();
  await new Promise<void>((done) => socketServer.listen(join(root, 'sock'), done));
  await new Promise<void>((done) => {
    execFile(
      process.execPath,
      [
        '--max-old-space-size=256',
        '--import',
        import.meta.resolve('tsx'),
        join(REPO, 'test/security/cli-batch.ts'),
        JSON.stringify(childCases),
      ],
      {
        cwd: root,
        timeout: 150_000,
        killSignal: 'SIGKILL',
        maxBuffer: 8 * 1024 * 1024,
        env: { PATH: process.env.PATH ?? '' },
      },
      (err, out, errText) => {
        for (const line of out.split('\n').filter(Boolean)) {
          const r = JSON.parse(line) as { id: string; code: number; out: string; err: string };
          childResults.set(r.id, r);
        }
        if (err) {
          const e = err as Error & { killed?: boolean; code?: unknown; signal?: unknown };
          const how = e.killed
            ? 'killed at the timeout: a case hung'
            : `exit ${String(e.code)}, signal ${String(e.signal)}`;
          childProblem = `the child ended early (${how}): ${errText.slice(0, 300)}`;
        }
        done();
      },
    );
  });
}, 180_000);

/** A case's result from the child; missing means the child hung, ran out of memory or crashed on or before it. */
function fromChild(id: string) {
  const r = childResults.get(id);
  expect(r, `no answer from the child for this case; ${childProblem}`).toBeDefined();
  return r as { code: number; out: string; err: string };
}

afterAll(async () => {
  await new Promise<void>((done) => socketServer.close(() => done()));
  rmSync(ws, { recursive: true, force: true });
});

/** Each hostile path, the problem the diagnostic must name, and whether a regression could block or blow up. */
const HOSTILE = [
  {
    what: 'an absolute path',
    path: '/etc/hostname',
    problem: /absolute path outside the template's folder/,
    hangs: false,
  },
  { what: 'a ../ escape', path: '../secret.txt', problem: /points outside the template's folder/, hangs: false },
  { what: 'a symlink escape', path: 'link-outside', problem: /symbolic link that points outside/, hangs: false },
  { what: '/proc/self/environ', path: '/proc/self/environ', problem: /absolute path outside/, hangs: false },
  { what: '/dev/zero', path: '/dev/zero', problem: /absolute path outside/, hangs: true },
  { what: 'a FIFO', path: 'fifo', problem: /named pipe \(FIFO\), not a regular file/, hangs: true },
  { what: 'a Unix socket', path: 'sock', problem: /socket, not a regular file/, hangs: false },
  { what: 'a directory', path: 'dir', problem: /directory, not a regular file/, hangs: false },
  { what: 'a file over the size limit', path: 'big.bin', problem: /larger than \d+ bytes/, hangs: false },
] as const;
type Hostile = (typeof HOSTILE)[number];

let n = 0;
/** Writes a template into the root and returns its file name. */
function template(body: string): string {
  const name = `t${n++}.pkr.hcl`;
  writeFileSync(join(root, name), body);
  return name;
}

const NULL_SOURCE = 'source "null" "a" {\n  communicator = "none"\n}\n';
const withBuild = (provisioner: string) => `${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n${provisioner}}\n`;

async function cli(argv: string[], env: Record<string, string> = {}) {
  const io = bufferedIO({ cwd: root, env });
  const code = await runCli(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** Hang-prone cases were queued for the child at collection time (`child` is their id). */
async function expectRefused(argv: string[], h: Hostile, where: RegExp, what: string, child?: string) {
  const r = child !== undefined ? fromChild(child) : await cli(argv);
  expect(r, JSON.stringify(r)).toMatchObject({ code: 1 });
  expect(r.err).toMatch(h.problem);
  expect(r.err).toMatch(where);
  expect(r.err).toContain(what);
  expect(`${r.out}${r.err}`).not.toContain(OUTSIDE_SECRET);
}

describe('file functions under --pipeline', () => {
  const FUNCTIONS = ['file', 'filebase64', 'templatefile'] as const;
  const cases = FUNCTIONS.flatMap((fn) =>
    HOSTILE.map((h) => {
      const call = fn === 'templatefile' ? `templatefile("${h.path}", {})` : `${fn}("${h.path}")`;
      const name = template(`locals {\n  x = ${call}\n}\n${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n}\n`);
      const argv = ['validate', '--pipeline', name];
      return { fn, ...h, name, argv, child: h.hangs ? viaChild(argv) : undefined };
    }),
  );
  it.each(cases)('$fn($path): $what is refused with a located diagnostic', async (c) => {
    await expectRefused(
      c.argv,
      c,
      new RegExp(`on ${c.name} line 2, column \\d+`),
      `Call to function "${c.fn}" failed`,
      c.child,
    );
  });

  it.each(FUNCTIONS)('%s("link-inside"): a symlink that stays inside the folder is allowed', async (fn) => {
    const call = fn === 'templatefile' ? 'templatefile("link-inside", {})' : `${fn}("link-inside")`;
    const name = template(
      `locals {\n  x = ${call}\n}\n${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n  provisioner "shell" {\n    inline = [local.x]\n  }\n}\n`,
    );
    const r = await cli(['plan', '--pipeline', '--json', name]);
    expect(r.err).toBe('');
    const expected = fn === 'filebase64' ? Buffer.from('echo inside\n').toString('base64') : 'echo inside\n';
    expect(r.out).toContain(JSON.stringify(expected));
  });

  const EXISTS = HOSTILE.filter((h) => h.path !== 'big.bin').map((h) => {
    const name = template(
      `locals {\n  x = fileexists("${h.path}")\n}\n${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n}\n`,
    );
    const argv = ['validate', '--pipeline', name];
    return { ...h, name, argv, child: h.hangs ? viaChild(argv) : undefined };
  });
  it.each(EXISTS)('fileexists("$path"): $what fails instead of answering', async (h) => {
    await expectRefused(h.argv, h, new RegExp(`on ${h.name} line 2`), 'fileexists', h.child);
  });

  it.each([
    ['an absolute folder', '/etc', /absolute path outside/],
    ['a ../ escape', '..', /points outside/],
    ['a symlinked folder outside', 'dir-outside', /symbolic link that points outside/],
  ])('fileset over %s is refused', async (_what, base, problem) => {
    const name = template(
      `locals {\n  x = fileset("${base}", "*")\n}\n${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n}\n`,
    );
    const r = await cli(['validate', '--pipeline', name]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(problem);
    expect(r.err).toContain('Call to function "fileset" failed');
  });

  it('fileset inside the folder leaves out links that point outside', async () => {
    const name = template(
      `locals {\n  x = fileset("dir", "*")\n}\n${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n  provisioner "shell" {\n    inline = local.x\n  }\n}\n`,
    );
    const r = await cli(['plan', '--pipeline', '--json', name]);
    expect(r.err).toBe('');
    const plan = JSON.parse(r.out) as { builds: { provisioners: { config: { inline: string[] } }[] }[] };
    expect(plan.builds[0]?.provisioners[0]?.config.inline).toEqual(['x.txt']);
  });
});

describe('file-taking attributes under --pipeline', () => {
  const ATTRIBUTES = [
    { attr: 'script', block: (p: string) => `  provisioner "shell" {\n    script = "${p}"\n  }\n`, folders: false },
    { attr: 'scripts', block: (p: string) => `  provisioner "shell" {\n    scripts = ["${p}"]\n  }\n`, folders: false },
    {
      attr: 'source',
      block: (p: string) => `  provisioner "file" {\n    source = "${p}"\n    destination = "/tmp/x"\n  }\n`,
      folders: true,
    },
    {
      attr: 'playbook_file',
      block: (p: string) => `  provisioner "ansible-local" {\n    playbook_file = "${p}"\n  }\n`,
      folders: false,
    },
  ];
  const cases = ATTRIBUTES.flatMap((a) =>
    HOSTILE.filter((h) => !(a.folders && h.path === 'dir')).map((h) => {
      const name = template(withBuild(a.block(h.path)));
      const argv = ['plan', '--pipeline', name];
      return { ...a, ...h, name, argv, child: h.hangs ? viaChild(argv) : undefined };
    }),
  );
  it.each(cases)('$attr = "$path": $what is refused by plan --pipeline', async (c) => {
    // Line 7 is the attribute: 1-3 source, 4 build, 5 sources, 6 provisioner.
    await expectRefused(c.argv, c, new RegExp(`(on ${c.name} line 7|${c.name}:7:\\d+)`), `"${c.attr}"`, c.child);
  });

  it.each(ATTRIBUTES)('$attr = "link-inside": a symlink inside the folder is allowed and staged', async (a) => {
    const name = template(withBuild(a.block('link-inside')));
    const r = await cli(['plan', '--pipeline', '--json', name]);
    expect(r.err).toBe('');
    const plan = JSON.parse(r.out) as { files: { relativePath: string; size?: number }[] };
    expect(plan.files).toEqual([expect.objectContaining({ relativePath: 'link-inside', size: 12 })]);
  });

  it.each(HOSTILE.filter((h) => !h.path.match(/^(fifo|sock|dir|big\.bin)$/)))(
    'amazon-ebs user_data_file = "$path": $what is refused by validate --pipeline',
    async (h) => {
      const name = template(
        `source "amazon-ebs" "a" {\n  region = "us-east-1"\n  source_ami = "ami-12345678"\n  instance_type = "t3.micro"\n  ami_name = "x"\n  ssh_username = "u"\n  user_data_file = "${h.path}"\n}\nbuild {\n  sources = ["source.amazon-ebs.a"]\n}\n`,
      );
      const r = await cli(['validate', '--pipeline', name]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('Invalid value for "user_data_file"');
      expect(r.err).toMatch(new RegExp(`on ${name} line 7`));
      expect(r.err).toMatch(h.problem);
    },
  );
});

describe('template and var files under --pipeline', () => {
  it.each([
    ['a var file outside the folder', ['--var-file', join(ws, 'secret.txt')], /points outside/],
    ['/dev/zero as var file', ['--var-file', '/dev/zero'], /points outside/],
  ])('%s is refused', async (_what, flags, problem) => {
    const name = template(`${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n}\n`);
    const r = await cli(['validate', '--pipeline', ...flags, name]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(problem);
    expect(r.err).not.toContain(OUTSIDE_SECRET);
  });
});

describe('CLI local mode keeps Packer semantics but never hangs or reads non-regular files', () => {
  it('reads an absolute path and a path outside the folder, as Packer does', async () => {
    const name = template(
      `locals {\n  x = file("${join(ws, 'secret.txt')}")\n  y = file("../secret.txt")\n}\n${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n}\n`,
    );
    const r = await cli(['validate', name]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  const VALID = template(`${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n}\n`);
  const fnCase = (locals: string) => [
    'validate',
    template(`${locals}${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n}\n`),
  ];
  const scriptCase = (path: string) => [
    'plan',
    template(withBuild(`  provisioner "shell" {\n    script = "${path}"\n  }\n`)),
  ];
  it.each(
    [
      ['file("/dev/zero")', fnCase('locals {\n  x = file("/dev/zero")\n}\n'), 1, /device file, not a regular file/],
      ['file("fifo")', fnCase('locals {\n  x = file("fifo")\n}\n'), 1, /named pipe \(FIFO\), not a regular file/],
      ['file("big.bin")', fnCase('locals {\n  x = file("big.bin")\n}\n'), 1, /larger than/],
      ['templatefile("/dev/zero")', fnCase('locals {\n  x = templatefile("/dev/zero", {})\n}\n'), 1, /device file/],
      ['a FIFO as the template', ['validate', 'fifo.pkr.hcl'], 1, /named pipe/],
      ['/dev/zero as a var file', ['validate', '--var-file', '/dev/zero', VALID], 1, /device file/],
      ['a FIFO as a var file', ['validate', '--var-file', 'fifo', VALID], 1, /named pipe/],
      ['/dev/zero as a JSON template (through a symlink)', ['validate', 'zero.json'], 1, /device file/],
      ['plan with a FIFO as a script (a warning)', scriptCase('fifo'), 0, /named pipe/],
      ['plan with /dev/zero as a script (a warning)', scriptCase('/dev/zero'), 0, /device file/],
      ['plan with an oversized script (a warning)', scriptCase('big.bin'), 0, /larger than/],
    ].map(([what, argv, code, problem]) => ({ what, code, problem, child: viaChild(argv as string[]) })),
  )('$what: a diagnostic in bounded time and memory', (c) => {
    const r = fromChild(c.child);
    expect(r.code).toBe(c.code);
    expect(r.err).toMatch(c.problem as RegExp);
  });
});

describe('env()', () => {
  it.each([
    ['a local', `locals {\n  x = env("HOME")\n}\n${NULL_SOURCE}`, 2],
    ['a source attribute', 'source "null" "a" {\n  communicator = env("HOME")\n}\n', 2],
  ])('in %s is an unknown function, as in Packer', async (_where, body, line) => {
    const name = template(`${body}build {\n  sources = ["source.null.a"]\n}\n`);
    const r = await cli(['validate', name], { HOME: '/home/x' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('Call to unknown function');
    expect(r.err).toContain('There is no function named "env".');
    expect(r.err).toContain(`on ${name} line ${line}`);
  });

  it('in a variable default works, and a credential-like value is redacted from plan and inspect', async () => {
    const secret = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';
    const name = template(
      `variable "k" {\n  default = env("AWS_SECRET_ACCESS_KEY")\n}\nvariable "r" {\n  default = env("AWS_REGION")\n}\n${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n  provisioner "shell" {\n    inline = ["echo \${var.k} \${var.r}"]\n  }\n}\n`,
    );
    const env = { AWS_SECRET_ACCESS_KEY: secret, AWS_REGION: 'eu-west-3' };
    const plan = await cli(['plan', '--json', name], env);
    expect(plan.code).toBe(0);
    expect(plan.out).not.toContain(secret);
    expect(plan.out).toContain('echo <sensitive> eu-west-3');
    const inspect = await cli(['inspect', name], env);
    expect(inspect.out).not.toContain(secret);
  });

  it('under --pipeline sees an empty environment', async () => {
    const name = template(
      `variable "k" {\n  default = env("AWS_SECRET_ACCESS_KEY")\n}\n${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n  provisioner "shell" {\n    inline = ["k=\${var.k}"]\n  }\n}\n`,
    );
    const r = await cli(['plan', '--pipeline', '--json', name], { AWS_SECRET_ACCESS_KEY: 'leaked-value' });
    expect(r.out).toContain('"k="');
    expect(r.out).not.toContain('leaked-value');
  });
});

describe('bounded reads', () => {
  it('never reads more than limit+1 bytes from a file that reports size 0 (/proc)', () => {
    const r = readRegularFile('/proc/self/status', 16);
    expect(r).toMatchObject({ ok: false, problem: /larger than 16 bytes/ });
  });
});

// PrepareBuild's own path: S3 (mocked) → scratch folder → the core engine with the pipeline's options.
function prepare(objects: Record<string, string>, opts: { templateKey?: string; varFiles?: string[] } = {}) {
  const s3 = mockClient(S3Client);
  mockClient(DynamoDBClient);
  const templateKey = opts.templateKey ?? 't/main.pkr.hcl';
  for (const [Key, text] of Object.entries(objects)) {
    s3.on(GetObjectCommand, { Bucket: 'templates', Key }).resolves({
      Body: {
        transformToByteArray: async () => new TextEncoder().encode(text),
        transformToString: async () => text,
      } as never,
    });
  }
  s3.on(ListObjectsV2Command).resolves({
    Contents: Object.keys(objects)
      .filter((k) => k.startsWith('t/'))
      .map((Key) => ({ Key, Size: objects[Key]?.length ?? 0 })),
  });
  const deps: PrepareDeps = prepareDeps();
  const request = normalizeInput({
    template: { bucket: 'templates', key: templateKey },
    ...(opts.varFiles ? { varFiles: opts.varFiles } : {}),
  });
  const staged = () => s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
  return { run: () => prepareBuild(deps, request, `exec-${n++}`), staged };
}

const GOOD = `${NULL_SOURCE}build {\n  sources = ["source.null.a"]\n}\n`;

describe('PrepareBuild', () => {
  it.each([
    ['an absolute key (double slash)', 't//etc/cron.d/x', /absolute path/],
    ['a .. segment', 't/../../escape.sh', /"\." or "\.\." path segment/],
    ['a . segment', 't/./x.sh', /"\." or "\.\." path segment/],
    ['an empty segment', 't/a//b.sh', /empty path segment/],
    ['a backslash', 't/..\\..\\x.sh', /backslash/],
    ['a NUL byte', 't/a\u0000b.sh', /control character/],
    ['a newline', 't/a\nb.sh', /control character/],
  ])('refuses a sibling S3 key with %s', async (_what, key, problem) => {
    const t = prepare({ 't/main.pkr.hcl': GOOD, [key]: 'echo hostile' });
    const err = await t.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateInvalidError);
    expect((err as Error).message).toMatch(problem);
    expect((err as Error).message).not.toContain('\u0000');
    expect((err as Error).message).not.toContain('\n');
    expect(t.staged()).toEqual([]);
    expect(existsSync(join(tmpdir(), 'escape.sh'))).toBe(false);
  });

  it.each([
    ['a .. segment', 'vars/../../x.pkrvars.hcl', /"\." or "\.\." path segment/],
    ['an absolute key', '/x.pkrvars.hcl', /absolute path/],
    ['an empty segment', 'vars//x.pkrvars.hcl', /empty path segment/],
  ])('refuses a var-file key with %s', async (_what, key, problem) => {
    const t = prepare({ 't/main.pkr.hcl': GOOD, [key]: 'x = 1' }, { varFiles: [key] });
    await expect(t.run()).rejects.toThrow(problem);
    expect(t.staged()).toEqual([]);
  });

  it.each([
    [
      'script = "/proc/self/environ"',
      '  provisioner "shell" {\n    script = "/proc/self/environ"\n  }\n',
      /absolute path outside/,
    ],
    [
      'script = "../../etc/hostname"',
      '  provisioner "shell" {\n    script = "../../etc/hostname"\n  }\n',
      /points outside/,
    ],
    [
      'source = "/dev/zero"',
      '  provisioner "file" {\n    source = "/dev/zero"\n    destination = "/x"\n  }\n',
      /absolute path outside/,
    ],
    [
      'file("/proc/self/environ")',
      '  provisioner "shell" {\n    inline = [file("/proc/self/environ")]\n  }\n',
      /absolute path outside/,
    ],
    ['file("../x")', '  provisioner "shell" {\n    inline = [file("../x")]\n  }\n', /points outside/],
    [
      'templatefile("/etc/passwd")',
      '  provisioner "shell" {\n    inline = [templatefile("/etc/passwd", {})]\n  }\n',
      /absolute path outside/,
    ],
  ])('refuses %s with a located TemplateInvalid error and stages nothing', async (_what, provisioner, problem) => {
    const t = prepare({ 't/main.pkr.hcl': withBuild(provisioner) });
    const err = await t.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateInvalidError);
    expect((err as Error).message).toMatch(problem);
    expect((err as Error).message).toMatch(/main\.pkr\.hcl(:| line )7/);
    expect(t.staged()).toEqual([]);
  });

  it('stages a script beside the template, and env() there sees an empty environment', async () => {
    process.env.KILN_TEST_SECRET_TOKEN = 'env-leak-check';
    const t = prepare({
      't/main.pkr.hcl': `variable "k" {\n  default = env("KILN_TEST_SECRET_TOKEN")\n}\n${withBuild('  provisioner "shell" {\n    script = "scripts/ok.sh"\n    environment_vars = ["K=$' + '{var.k}"]\n  }\n')}`,
      't/scripts/ok.sh': 'echo ok',
    });
    try {
      await t.run();
    } finally {
      delete process.env.KILN_TEST_SECRET_TOKEN;
    }
    const keys = t.staged().map((p) => p.Key);
    expect(keys.some((k) => k?.endsWith('/files/scripts/ok.sh'))).toBe(true);
    const planBody = t.staged().find((p) => p.Key?.endsWith('plan.json'))?.Body;
    const stored = JSON.parse(String(planBody)) as StoredPlan;
    expect(JSON.stringify(stored)).not.toContain('env-leak-check');
    const shell = stored.plan.builds[0]?.provisioners[0];
    expect(shell && provisionerOf(shell, 'shell').config.environment_vars).toEqual(['K=']);
  });
});

describe('localPathForKey', () => {
  it.each(['a.sh', 'scripts/setup.sh', 'deep/er/file.txt'])('maps "%s" inside the scratch folder', (key) => {
    expect(localPathForKey('/scratch/x', key)).toBe(join('/scratch/x', key));
  });
});
