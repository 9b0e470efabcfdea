/** Packer's docker post-processor chaining (inputs accepted, artifact ids, keep rules) and Kiln's ECR publish rule. */
import { describe, expect, it } from 'vitest';
import {
  BUILDER_ID_DOCKER,
  BUILDER_ID_IMPORT,
  BUILDER_ID_TAG,
  type DockerPostPlanInput,
  planDockerPostProcessors,
  tagsOf,
} from '../../../core/docker/postprocess.ts';

const REGISTRY = { account: '123456789012', region: 'us-east-1' };
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const plan = (chains: DockerPostPlanInput['chains'], extra: Partial<DockerPostPlanInput> = {}) =>
  planDockerPostProcessors({ mode: 'commit', chains, buildTag: 'kb-9', registry: REGISTRY, ...extra });
const COMMITTED = { builderId: BUILDER_ID_IMPORT, ref: { kind: 'committed' } };
const tag = (config: Record<string, unknown>, keepInputArtifact?: boolean) => ({
  type: 'docker-tag',
  config,
  ...(keepInputArtifact !== undefined ? { keepInputArtifact } : {}),
});

describe('tags', () => {
  it.each([
    [{ tag: [] }, []],
    [{ tag: [''] }, []],
    [{ tags: ['1', ''], tag: ['old'] }, ['1', 'old']],
    [{ tags: 'a,b' }, ['a', 'b']],
  ])('%j → %j (tags first, then the older tag; empty means none, i.e. latest)', (config, expected) => {
    expect(tagsOf(config)).toEqual(expected);
  });
});

describe('artifacts and keep_input_artifact (Packer core semantics)', () => {
  it('no post-processors: the builder artifact stays', () => {
    expect(plan([]).artifacts).toEqual([COMMITTED]);
  });

  it('docker-tag without tags: id is the repository, input always kept (force override beats keep=false)', () => {
    for (const keepInput of [undefined, false, true]) {
      const p = plan([[tag({ repository: 'app' }, keepInput)]]);
      expect(p.artifacts).toEqual([{ builderId: BUILDER_ID_TAG, id: 'app', tags: [] }, COMMITTED]);
    }
  });

  it('docker-tag with tags: each tag tagged, id is the last, docker_tags lists them', () => {
    const p = plan([[tag({ repository: 'app', tags: ['1', '2'] })]], { publish: false });
    expect(p.steps).toEqual([
      { kind: 'tag', source: { kind: 'committed' }, target: 'app:1' },
      { kind: 'tag', source: { kind: 'committed' }, target: 'app:2' },
    ]);
    expect(p.artifacts[0]).toEqual({ builderId: BUILDER_ID_TAG, id: 'app:2', tags: ['app:1', 'app:2'] });
  });

  it('docker-push to another registry pushes the id then each tag; keep defaults true, keep=false drops the tag artifact', () => {
    const chain = (keep?: boolean) => [
      tag({ repository: 'ghcr.io/o/app', tags: ['1', '2'] }),
      { type: 'docker-push', config: {}, ...(keep !== undefined ? { keepInputArtifact: keep } : {}) },
    ];
    const kept = plan([chain()]);
    expect(kept.steps.filter((s) => s.kind === 'push')).toEqual([
      { kind: 'push', name: 'ghcr.io/o/app:2' },
      { kind: 'push', name: 'ghcr.io/o/app:1' },
      { kind: 'push', name: 'ghcr.io/o/app:2' },
    ]);
    const pushed = {
      builderId: BUILDER_ID_IMPORT,
      id: 'ghcr.io/o/app:2',
      tags: ['ghcr.io/o/app:1', 'ghcr.io/o/app:2'],
    };
    const tagged = { builderId: BUILDER_ID_TAG, id: 'ghcr.io/o/app:2', tags: ['ghcr.io/o/app:1', 'ghcr.io/o/app:2'] };
    expect(kept.artifacts).toEqual([tagged, pushed, COMMITTED]);
    expect(plan([chain(false)]).artifacts).toEqual([pushed, COMMITTED]);
    expect(kept.published).toEqual([]);
  });

  it('export → docker-import (input not kept by default) → docker-save (returns its input with the file)', () => {
    const p = plan(
      [
        [
          { type: 'docker-import', config: { repository: 'app', tag: 'v1' } },
          { type: 'docker-save', config: { path: 'app.tar' } },
        ],
      ],
      { mode: 'export', exportPath: 'img.tar', publish: false },
    );
    expect(p.artifacts).toEqual([
      { builderId: BUILDER_ID_IMPORT, id: 'app:v1' },
      { builderId: BUILDER_ID_IMPORT, id: 'app:v1', files: ['app.tar'] },
    ]);
    const kept = plan([[{ type: 'docker-import', config: { repository: 'app' }, keepInputArtifact: true }]], {
      mode: 'export',
      exportPath: 'img.tar',
      publish: false,
    });
    expect(kept.artifacts).toEqual([
      { builderId: BUILDER_ID_IMPORT, id: 'app' },
      { builderId: BUILDER_ID_DOCKER, id: 'img.tar', files: ['img.tar'] },
    ]);
  });

  it('two chains share the builder artifact; it stays when any first post-processor keeps it', () => {
    const p = plan(
      [[{ type: 'docker-save', config: { path: 'a.tar' }, keepInputArtifact: false }], [tag({ repository: 'x' })]],
      { publish: false },
    );
    expect(p.artifacts.map((a) => a.builderId)).toEqual([BUILDER_ID_IMPORT, BUILDER_ID_TAG, BUILDER_ID_IMPORT]);
  });

  it('discard: no artifact, so no post-processor runs (Packer returns before them)', () => {
    expect(plan([[tag({ repository: 'x' })]], { mode: 'discard' })).toEqual({
      steps: [],
      artifacts: [],
      published: [],
    });
  });
});

describe('what each post-processor accepts (plugin rules)', () => {
  it.each([
    [
      'docker-push of the committed image (no name)',
      'commit',
      [{ type: 'docker-push', config: {} }],
      /no name to push/,
    ],
    ['docker-tag of an exported file', 'export', [tag({ repository: 'x' })], /cannot take the packer.docker artifact/],
    [
      'docker-push of an exported file',
      'export',
      [{ type: 'docker-push', config: {} }],
      /cannot take the packer.docker/,
    ],
    ['docker-save of an exported file', 'export', [{ type: 'docker-save', config: { path: 'p' } }], /cannot take/],
    [
      'docker-import of a committed image',
      'commit',
      [{ type: 'docker-import', config: { repository: 'x' } }],
      /cannot take the packer.post-processor.docker-import/,
    ],
    ['a bad tag', 'commit', [tag({ repository: 'x', tags: ['-bad'] })], /not a valid docker tag/],
    ['a bad bare repository', 'commit', [tag({ repository: 'My_App' })], /not a valid ECR repository name/],
    ['another post-processor type', 'commit', [{ type: 'manifest', config: {} }], /cannot run in a docker build/],
  ] as const)('refuses %s', (_name, mode, chain, error) => {
    expect(() => plan([chain], { mode, exportPath: 'e.tar' })).toThrow(error);
  });

  it('docker-tag after docker-tag and docker-push after docker-import are accepted', () => {
    expect(() => plan([[tag({ repository: 'aa' }), tag({ repository: 'bb' })]])).not.toThrow();
    expect(() =>
      plan(
        [
          [
            { type: 'docker-import', config: { repository: 'aa' } },
            { type: 'docker-push', config: {} },
          ],
        ],
        {
          mode: 'export',
          exportPath: 'e',
        },
      ),
    ).not.toThrow();
  });
});

describe('Kiln publish rule: ECR repositories are pushed, always also with the build id', () => {
  it('docker-tag alone with a bare name → tagged with the account ECR URI, logged in, pushed with latest and the build tag', () => {
    const p = plan([[tag({ repository: 'my-python-app', tag: [] })]]);
    expect(p.steps).toEqual([
      { kind: 'tag', source: { kind: 'committed' }, target: 'my-python-app' },
      { kind: 'tag', source: { kind: 'committed' }, target: `${ECR}/my-python-app:latest` },
      { kind: 'login', login: { server: ECR, ecr: REGISTRY } },
      {
        kind: 'tag',
        source: { kind: 'name', name: `${ECR}/my-python-app:latest` },
        target: `${ECR}/my-python-app:kb-9`,
      },
      // The build id tag first: a push that fails midway leaves a tag Cleanup can remove, not a moved latest.
      { kind: 'push', name: `${ECR}/my-python-app:kb-9` },
      { kind: 'push', name: `${ECR}/my-python-app:latest` },
      { kind: 'logout', server: ECR },
    ]);
    expect(p.published).toEqual([
      {
        repository: {
          written: 'my-python-app',
          uri: `${ECR}/my-python-app`,
          host: ECR,
          path: 'my-python-app',
          ecr: REGISTRY,
          resolved: true,
        },
        tags: ['latest', 'kb-9'],
      },
    ]);
  });

  it('an explicit docker-push of ECR names adds nothing twice and needs no template credentials', () => {
    const p = plan([
      [
        tag({ repository: 'app', tags: ['1'] }),
        { type: 'docker-push', config: { ecr_login: true, login_server: ECR } },
      ],
    ]);
    expect(p.steps.filter((s) => s.kind === 'push').map((s) => (s.kind === 'push' ? s.name : ''))).toEqual([
      `${ECR}/app:kb-9`,
      `${ECR}/app:1`,
    ]);
    expect(p.steps.filter((s) => s.kind === 'login')).toHaveLength(1);
  });

  it('a full ECR URI of another account is published as given; another registry is not published without docker-push', () => {
    const other = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
    const p = plan([
      [tag({ repository: `${other}/team/app`, tags: ['2'] })],
      [tag({ repository: 'docker.io/me/app' })],
    ]);
    expect(p.published.map((x) => [x.repository.uri, x.tags])).toEqual([[`${other}/team/app`, ['2', 'kb-9']]]);
    expect(p.steps).toContainEqual({
      kind: 'login',
      login: { server: other, ecr: { account: '210987654321', region: 'eu-west-1' } },
    });
    expect(p.steps.some((s) => s.kind === 'push' && s.name.startsWith('docker.io'))).toBe(false);
  });

  it('publish: false keeps Packer literal (nothing pushed that the template did not push)', () => {
    expect(plan([[tag({ repository: 'app' })]], { publish: false }).steps).toEqual([
      { kind: 'tag', source: { kind: 'committed' }, target: 'app' },
    ]);
  });

  it('refuses a build tag docker would refuse', () => {
    expect(() => plan([], { buildTag: 'bad tag' })).toThrow(/build tag/);
  });
});
