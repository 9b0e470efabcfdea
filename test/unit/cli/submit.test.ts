/**
 * `kiln submit` without AWS: what is packed, that an invalid template is refused before any call, how a watched
 * execution's history becomes stage lines, and that the command line reaches the handler.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bufferedIO } from '../../../cli/io.ts';
import { commandHandlers, runCli } from '../../../cli/program.ts';
import {
  formatStageLine,
  packTemplate,
  runSubmit,
  type SubmitOptions,
  stageChanges,
  submitExecutionName,
} from '../../../cli/submit.ts';
import { extractArchive } from '../../../functions/common/prepare-build/archive.ts';

const HCL = `
variable "version" {
  type = string
}
source "amazon-ebs" "web" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  source_ami    = "ami-12345678"
  ssh_username  = "ubuntu"
  ami_name      = "web-\${var.version}"
}
build {
  sources = ["source.amazon-ebs.web"]
  provisioner "shell" {
    script = "scripts/setup.sh"
  }
}
`;

describe('kiln submit', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-su-'));
    mkdirSync(join(dir, 'app', 'scripts'), { recursive: true });
    writeFileSync(join(dir, 'app', 'web.pkr.hcl'), HCL);
    writeFileSync(join(dir, 'app', 'other.pkr.hcl'), 'variable "x" {}\n');
    writeFileSync(join(dir, 'app', 'scripts', 'setup.sh'), 'echo hi\n');
    mkdirSync(join(dir, 'app', '.git'));
    writeFileSync(join(dir, 'app', '.git', 'HEAD'), 'ref\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const options = (extra: Partial<SubmitOptions> = {}): SubmitOptions => ({
    path: 'app/web.pkr.hcl',
    vars: [['version', '1.0']],
    varFiles: [],
    only: [],
    except: [],
    watch: false,
    json: false,
    stateMachine: 'arn:aws:states:us-east-1:123456789012:stateMachine:kiln',
    bucket: 'tpl',
    ...extra,
  });
  const noAws = () => {
    throw new Error('no AWS call may be made');
  };

  it('packs a file with its folder but not the other templates at the top, deterministically', async () => {
    const one = await packTemplate(dir, 'app/web.pkr.hcl');
    expect(one.files).toEqual(['scripts/setup.sh', 'web.pkr.hcl']);
    expect(one.leftOut).toEqual(['other.pkr.hcl']);
    expect(one.name).toBe('web');
    const two = await packTemplate(dir, 'app/web.pkr.hcl');
    expect(two.bytes.equals(one.bytes)).toBe(true);
    const folder = await packTemplate(dir, 'app');
    expect(folder.files).toEqual(['other.pkr.hcl', 'scripts/setup.sh', 'web.pkr.hcl']);
    expect(folder.name).toBe('app');
    // The bundle is what PrepareBuild extracts.
    const out = join(dir, 'x');
    await extractArchive('tar.gz', one.bytes, out, 'test');
    expect(submitExecutionName('a'.repeat(64))).toMatch(/^kiln-submit-a{48}$/);
  });

  it('refuses an invalid template before any AWS call, with the diagnostic on the user path', async () => {
    const io = bufferedIO({ cwd: dir });
    expect(await runSubmit(options({ vars: [] }), io, noAws)).toBe(1);
    expect(io.stderr()).toContain('Error: Unset variable "version"');
    expect(io.stderr()).toContain('web.pkr.hcl');
    expect(io.stderr()).not.toContain('kiln-submit-');
    expect(io.stderr()).toMatch(/Not submitted: the template is not valid \(nothing was uploaded\)/);
  });

  it('refuses a missing path and a template naming a file outside its folder', async () => {
    const io = bufferedIO({ cwd: dir });
    expect(await runSubmit(options({ path: 'nope.pkr.hcl' }), io, noAws)).toBe(1);
    expect(io.stderr()).toContain('nope.pkr.hcl: no such file or folder');
    writeFileSync(join(dir, 'app', 'web.pkr.hcl'), HCL.replace('scripts/setup.sh', '../secret.sh'));
    writeFileSync(join(dir, 'secret.sh'), 'echo\n');
    const io2 = bufferedIO({ cwd: dir });
    expect(await runSubmit(options(), io2, noAws)).toBe(1);
    expect(io2.stderr()).toMatch(/Not submitted/);
  });

  it('turns history into one line per stage change per build, with elapsed seconds', () => {
    const start = new Date('2026-12-02T10:00:00Z');
    const entered = (name: string, s: number, build?: string): HistoryEvent => ({
      type: 'TaskStateEntered',
      id: s,
      timestamp: new Date(start.getTime() + s * 1000),
      stateEnteredEventDetails: { name, input: JSON.stringify(build ? { state: { name: build } } : {}) },
    });
    const seen = new Map<string, { stage: string; at: number }>();
    const lines = stageChanges(
      [
        entered('PrepareBuild', 0),
        entered('LaunchBuilder', 2, 'amazon-ebs.web'),
        entered('LaunchBuilder', 3, 'docker.app'),
        entered('RunProvisioner', 12, 'amazon-ebs.web'),
        entered('RunProvisioner', 13, 'amazon-ebs.web'),
      ],
      start,
      seen,
    );
    expect(lines.map(formatStageLine)).toEqual([
      '[    0s] (execution)                  PrepareBuild',
      '[    2s] amazon-ebs.web               LaunchBuilder',
      '[    3s] docker.app                   LaunchBuilder',
      '[   12s] amazon-ebs.web               RunProvisioner  (10s in the previous stage)',
    ]);
    // A later poll continues from what was seen.
    expect(stageChanges([entered('Finalize', 40)], start, seen).map(formatStageLine)).toEqual([
      '[   40s] (execution)                  Finalize  (40s in the previous stage)',
    ]);
  });

  it('the command line reaches the handler with Packer-style flags', async () => {
    let got: SubmitOptions | undefined;
    const io = bufferedIO({ cwd: dir });
    const handlers = {
      ...commandHandlers(io),
      submit: async (o: SubmitOptions) => {
        got = o;
        return 0;
      },
    };
    const code = await runCli(
      [
        'submit',
        '-var',
        'version=2',
        '-var-file',
        'prod.pkrvars.hcl',
        '-only',
        'amazon-ebs.web',
        '--watch',
        '--timeout',
        '60',
        'app',
      ],
      io,
      handlers,
    );
    expect(code).toBe(0);
    expect(got).toMatchObject({
      path: 'app',
      vars: [['version', '2']],
      varFiles: ['prod.pkrvars.hcl'],
      only: ['amazon-ebs.web'],
      watch: true,
      json: false,
      timeoutSeconds: 60,
    });
  });
});
