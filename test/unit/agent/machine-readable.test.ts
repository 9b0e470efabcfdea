/**
 * The machine-readable parser against output captured from the real packer 1.6.6 (/usr/bin/packer; fixtures/),
 * and against packer run now when it is installed (the live case is not skipped silently: it fails without it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MachineReadableCollector, parseRecord } from '../../../agent/machine-readable.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

function collect(text: string) {
  const collector = new MachineReadableCollector();
  const log = text.split('\n').flatMap((line) => collector.feed(line));
  return { collector, log };
}

describe('parseRecord', () => {
  it('splits time, target, type and data, and unescapes commas and newlines', () => {
    expect(parseRecord('1796226220,,ui,say,==> a: step%!(PACKER_COMMA) next\\nline two')).toEqual({
      time: 1796226220,
      target: '',
      type: 'ui',
      data: ['say', '==> a: step, next\nline two'],
    });
    expect(parseRecord('panic: runtime error')).toBeUndefined();
    expect(parseRecord('x,y,z')).toBeUndefined();
  });
});

describe('MachineReadableCollector on packer 1.6.6 output', () => {
  it('reads the artifacts (builder id, id, files) of a successful file + null build', () => {
    const { collector, log } = collect(fixture('packer-1.6.6-file-null-success.txt'));
    const artifacts = collector.result();
    expect(artifacts).toHaveLength(4);
    expect(artifacts[0]).toEqual({ builderId: 'packer.file', artifactId: 'File', files: [{ name: 'out/hello.txt' }] });
    expect(artifacts[2]).toEqual({ builderId: 'fnoeding.null', artifactId: 'Null', files: [] });
    expect(collector.failureReason()).toBeUndefined();
    expect(collector.buildsFinished()).toEqual(['hello', 'example']);
    expect(log).toContain("Build 'hello' finished after 19 milliseconds 107 microseconds.");
    // `\n==> Wait completed` is one ui record holding a newline: the empty part is dropped.
    expect(log).toContain('==> Wait completed after 25 milliseconds 33 microseconds');
    expect(collector.progress()).toBe('Builds finished. The artifacts of successful builds are:');
  });

  it("takes the failure reason from the builds' error records", () => {
    const { collector, log } = collect(fixture('packer-1.6.6-shell-failure.txt'));
    expect(collector.result()).toEqual([]);
    expect(collector.failureReason()).toBe(
      "Error uploading script: Upload is not implemented when communicator = 'none'",
    );
    expect(log).toContain('==> example: Provisioning step had errors: Running the cleanup provisioner, if present...');
  });

  it('falls back to ui error lines, and keeps plain-text lines (a crash) in the log', () => {
    const { collector, log } = collect('1,,ui,error,Failed to initialize build: bad\npanic: boom\n');
    expect(collector.failureReason()).toBe('Failed to initialize build: bad');
    expect(log).toEqual(['Failed to initialize build: bad', 'panic: boom']);
  });

  it('reads a file path holding a comma, and ignores an artifact without its end record', () => {
    const { collector } = collect(
      [
        '1,b,artifact,0,builder-id,packer.file',
        '1,b,artifact,0,id,File',
        '1,b,artifact,0,file,0,out/a%!(PACKER_COMMA)b.txt',
        '1,b,artifact,0,end',
        '1,c,artifact,0,builder-id,packer.null',
      ].join('\n'),
    );
    expect(collector.result()).toEqual([
      { builderId: 'packer.file', artifactId: 'File', files: [{ name: 'out/a,b.txt' }] },
    ]);
  });

  it('parses what the installed packer prints now (live)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-mr-'));
    try {
      writeFileSync(
        join(dir, 't.json'),
        JSON.stringify({
          builders: [{ type: 'file', name: 'f', content: 'x', target: 'o.txt' }],
        }),
      );
      const run = spawnSync('/usr/bin/packer', ['build', '-machine-readable', '-color=false', 't.json'], {
        cwd: dir,
        env: { PATH: '/usr/bin:/bin', HOME: dir, TMPDIR: dir, CHECKPOINT_DISABLE: '1' },
        encoding: 'utf8',
      });
      expect(run.error).toBeUndefined();
      expect(run.status).toBe(0);
      const { collector } = collect(run.stdout);
      expect(collector.result()).toEqual([
        { builderId: 'packer.file', artifactId: 'File', files: [{ name: 'o.txt' }] },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
