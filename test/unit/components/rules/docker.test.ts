/** docker builder rules (core/builders/rules/docker/), one table per rule. */
import { describe, expect, it } from 'vitest';
import { builderSpec } from '../../../../core/builders/registry.ts';
import { DockerEcrLogin } from '../../../../core/builders/rules/docker/DockerEcrLogin.ts';
import { DockerResult } from '../../../../core/builders/rules/docker/DockerResult.ts';
import { DockerSource } from '../../../../core/builders/rules/docker/DockerSource.ts';
import { DOCKER_RULES } from '../../../../core/builders/rules/docker/index.ts';
import { DockerChanges } from '../../../../core/schema/rules/DockerChanges.ts';
import { ctx, describeRules, type RuleTable } from './table.ts';

const TABLES: Record<string, RuleTable> = {
  DockerSource: {
    rule: DockerSource,
    compliant: [{ image: 'ubuntu:24.04' }, { build: { path: 'Dockerfile' } }],
    nonCompliant: [[{ commit: true }, [{ message: 'image must be specified' }]]],
  },
  DockerResult: {
    rule: DockerResult,
    compliant: [{ commit: true }, { discard: true }, { export_path: 'image.tar' }, { commit: false, discard: true }],
    nonCompliant: [
      [{}, [{ message: 'exactly one of commit, discard or export_path must be set' }]],
      [
        { commit: true, export_path: 'image.tar' },
        [
          {
            message: 'only one of commit, discard or export_path may be set; got commit, export_path',
            key: 'export_path',
          },
        ],
      ],
    ],
  },
  DockerEcrLogin: {
    rule: DockerEcrLogin,
    compliant: [
      {},
      { ecr_login: false },
      { ecr_login: true, login_server: '123456789012.dkr.ecr.us-east-1.amazonaws.com' },
    ],
    nonCompliant: [
      [{ ecr_login: true }, [{ message: 'ECR login requires login server to be provided.', key: 'ecr_login' }]],
    ],
  },
  DockerChanges: {
    rule: DockerChanges,
    compliant: [{}, { changes: ['CMD ["python", "app.py"]', 'ENV A=b', 'WORKDIR /app', 'EXPOSE 8080'] }],
    nonCompliant: [
      [
        { changes: ['RUN rm -rf /'] },
        [
          {
            message:
              'changes[0]: "RUN" is not an instruction docker accepts with --change; use one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR',
            key: 'changes',
          },
        ],
      ],
    ],
  },
};

describeRules('docker', TABLES);

describe('docker rules as the builder runs them', () => {
  it('has a table for every rule it runs, in order', () => {
    expect(DOCKER_RULES.map((r) => r.name)).toEqual(Object.keys(TABLES));
  });

  it('reports them through the builder before the communicator checks', () => {
    const summaries = builderSpec('docker')
      ?.validate({ ecr_login: true }, undefined, ctx)
      .map((d) => d.summary);
    expect(summaries).toEqual([
      'image must be specified',
      'exactly one of commit, discard or export_path must be set',
      'ECR login requires login server to be provided.',
    ]);
  });
});
