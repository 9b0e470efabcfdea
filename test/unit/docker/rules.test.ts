/**
 * Validation-time rules for docker builds: `changes` instructions (builder and docker-import), repository names
 * and tags of docker-tag / docker-import, each reported with the key's file, line and column, in JSON and HCL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { changeProblem } from '../../../core/schema/docker-changes.ts';
import { loadTemplate } from '../../../core/validation/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-docker-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function errors(name: string, text: string) {
  const path = join(dir, name);
  writeFileSync(path, text);
  const loaded = await loadTemplate(path);
  return loaded.diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => ({
      summary: d.summary,
      at: d.range ? `${d.range.file.split('/').pop()}:${d.range.start.line}:${d.range.start.column}` : undefined,
    }));
}

describe('changeProblem', () => {
  it.each([
    'CMD ["python"]',
    'ENTRYPOINT /bin/sh',
    'env A=1',
    'EXPOSE 80',
    'LABEL a=b',
    'ONBUILD RUN x',
    'USER app',
    'VOLUME /data',
    'WORKDIR /app',
  ])('accepts %s', (change) => {
    expect(changeProblem(change)).toBeUndefined();
  });
  it.each([
    ['RUN apt-get update', /"RUN" is not an instruction docker accepts/],
    ['COPY . /', /"COPY" is not/],
    ['FROM x', /"FROM" is not/],
    ['', /empty change/],
    ['CMD', /needs an argument/],
    ['CMD x\nRUN y', /more than one line/],
  ])('refuses %j', (change, error) => {
    expect(changeProblem(change)).toMatch(error);
  });
});

describe('reported at validation with file:line:col', () => {
  it('JSON: a builder change, a docker-tag repository and tag', async () => {
    const text = `{
  "builders": [
    {
      "type": "docker",
      "image": "python:3.9-slim",
      "commit": true,
      "changes": ["ENV A=1", "RUN make"]
    }
  ],
  "post-processors": [
    {
      "type": "docker-tag",
      "repository": "My_App",
      "tags": ["ok", "bad tag"]
    }
  ]
}
`;
    expect(await errors('t.json', text)).toEqual([
      {
        summary:
          'changes[1]: "RUN" is not an instruction docker accepts with --change; use one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR',
        at: 't.json:7:7',
      },
      {
        summary:
          'repository: "My_App" is not a valid ECR repository name: lowercase letters and digits, separated inside a component by one of . _ - and between components by /',
        at: 't.json:13:7',
      },
      {
        summary: 'tags: "bad tag" is not a valid docker tag: up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -',
        at: 't.json:14:7',
      },
    ]);
  });

  it('HCL: docker-import changes', async () => {
    const text = `source "docker" "app" {
  image       = "debian:12"
  export_path = "image.tar"
}

build {
  sources = ["source.docker.app"]
  post-processor "docker-import" {
    repository = "app"
    changes    = ["WORKDIR /app", "ADD x /"]
  }
}
`;
    expect(await errors('t.pkr.hcl', text)).toEqual([
      {
        summary: expect.stringContaining('changes[1]: "ADD" is not an instruction'),
        at: 't.pkr.hcl:10:5',
      },
    ]);
  });

  it('the reference template and deferred values pass', async () => {
    expect(
      await errors(
        'ok.json',
        `{"variables": {"repo": "app", "t": "1"},
"builders": [{"type": "docker", "image": "python:3.9-slim", "commit": true, "changes": ["CMD [\\"python\\"]"]}],
"post-processors": [{"type": "docker-tag", "repository": "{{user \`repo\`}}", "tag": "{{user \`t\`}}"}, {"type": "docker-tag", "repository": "x1", "tag": ""}]}`,
      ),
    ).toEqual([]);
  });
});
