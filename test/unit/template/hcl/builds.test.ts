/** Build block semantics: source references, renames, only/except conflicts, syntax gate message mapping. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHclTemplate } from '../../../../core/frontends/hcl/index.ts';
import { parseGateMessage } from '../../../../core/hcl/syntax/strict-gate.ts';
import { hasErrors } from '../../../../core/template/diagnostics.ts';

async function loadText(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-builds-'));
  writeFileSync(join(dir, 'main.pkr.hcl'), text);
  return loadHclTemplate('main.pkr.hcl', { cwd: dir });
}

const SOURCES = 'source "null" "a" {\n  communicator = "none"\n}\nsource "docker" "b" {\n  image = "alpine"\n}\n';

describe('build blocks', () => {
  it('accepts bare references and the sources. prefix (Packer keeps the last two parts)', async () => {
    const r = await loadText(`${SOURCES}build {\n  sources = [source.null.a, "sources.docker.b"]\n}\n`);
    expect(hasErrors(r.diagnostics), JSON.stringify(r.diagnostics)).toBe(false);
    expect(r.template?.builds.map((b) => [b.name, b.builderType, b.sourceName])).toEqual([
      ['null.a', 'null', 'a'],
      ['docker.b', 'docker', 'b'],
    ]);
  });

  it('gives each build block its own builds and names', async () => {
    const r = await loadText(
      `${SOURCES}build {\n  name = "one"\n  sources = ["null.a"]\n}\nbuild {\n  sources = ["null.a"]\n  source "docker.b" {\n    name  = "c"\n    image = "debian"\n  }\n}\n`,
    );
    expect(r.template?.builds.map((b) => b.name)).toEqual(['one.null.a', 'null.a', 'docker.c']);
    expect(r.template?.builds[2]?.config.image).toBe('debian');
    expect(r.template?.builds[2]?.keyRanges?.image?.start.line).toBe(15);
  });

  it('reports a build-level source block naming an unknown source at its label', async () => {
    const r = await loadText(`${SOURCES}build {\n  source "null.zzz" {\n  }\n}\n`);
    const d = r.diagnostics.find((x) => x.summary === 'Unknown source null.zzz');
    expect(d?.detail).toBe('Known: [null.a docker.b]');
    expect(d?.range?.start).toEqual({ line: 8, column: 10 });
  });

  it('rejects only and except on the same provisioner', async () => {
    const r = await loadText(
      `${SOURCES}build {\n  sources = ["null.a"]\n  provisioner "shell-local" {\n    only   = ["null.a"]\n    except = ["docker.b"]\n    inline = ["true"]\n  }\n}\n`,
    );
    const d = r.diagnostics.find((x) => x.summary === "only one of 'only' or 'except' may be specified");
    expect(d?.range?.start.line).toBe(9);
  });

  it('reports top-level arguments and source blocks without two labels', async () => {
    const r = await loadText('foo = 1\nsource "null" {\n}\n');
    expect(r.diagnostics.map((d) => [d.summary, d.range?.start.line])).toEqual([
      ['Unsupported argument', 1],
      ['Missing source labels', 2],
    ]);
  });
});

describe('strict syntax gate messages', () => {
  it('maps every HCL diagnostic in a message to a range', () => {
    const message =
      'parse config: [__kiln_hcl__:1,9-2,1: Invalid multi-line string; Quoted strings may not be split over multiple lines. __kiln_hcl__:1,9-2,1: Unterminated template string; No closing marker was found for the string.]';
    const ds = parseGateMessage(message, 'a.pkr.hcl');
    expect(ds.map((d) => [d.summary, d.range?.start, d.range?.end])).toEqual([
      ['Invalid multi-line string', { line: 1, column: 9 }, { line: 2, column: 1 }],
      ['Unterminated template string', { line: 1, column: 9 }, { line: 2, column: 1 }],
    ]);
    expect(ds[0]?.detail).toBe('Quoted strings may not be split over multiple lines.');
  });

  it('keeps a message without positions as one diagnostic', () => {
    expect(parseGateMessage('something odd', 'a.pkr.hcl')).toEqual([
      { severity: 'error', summary: 'Invalid HCL syntax', detail: 'something odd' },
    ]);
  });
});
