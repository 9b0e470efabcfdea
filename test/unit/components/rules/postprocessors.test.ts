/** Post-processor rules (core/postprocessors/rules/), one table per rule, and where each post-processor runs it. */
import { describe, expect, it } from 'vitest';
import { POST_PROCESSORS } from '../../../../core/postprocessors/registry.ts';
import { ChecksumTypes } from '../../../../core/postprocessors/rules/ChecksumTypes.ts';
import { CompressionLevel } from '../../../../core/postprocessors/rules/CompressionLevel.ts';
import { DockerPushEcrLogin } from '../../../../core/postprocessors/rules/DockerPushEcrLogin.ts';
import { DockerTagOrTags } from '../../../../core/postprocessors/rules/DockerTagOrTags.ts';
import { ctx, describeRules } from './table.ts';

describeRules('post-processor', {
  DockerTagOrTags: {
    rule: DockerTagOrTags,
    compliant: [{ tag: ['latest'] }, { tags: ['latest', 'v1'] }, {}],
    nonCompliant: [
      [{ tag: ['latest'], tags: ['v1'] }, [{ message: 'Only one of tag or tags can be specified.', key: 'tags' }]],
    ],
  },
  DockerPushEcrLogin: {
    rule: DockerPushEcrLogin,
    compliant: [
      {},
      { ecr_login: false },
      { ecr_login: true, login_server: 'https://1.dkr.ecr.eu-west-1.amazonaws.com' },
    ],
    nonCompliant: [
      [{ ecr_login: true }, [{ message: 'ECR login requires login server to be provided.', key: 'ecr_login' }]],
      [{ ecr_login: 'true' }, [{ message: 'ECR login requires login server to be provided.', key: 'ecr_login' }]],
    ],
  },
  ChecksumTypes: {
    rule: ChecksumTypes,
    compliant: [{}, { checksum_types: ['md5', 'sha256'] }],
    nonCompliant: [
      [
        { checksum_types: ['sha256', 'crc32', 'sha3'] },
        [
          { message: 'Unrecognized checksum type: crc32', key: 'checksum_types' },
          { message: 'Unrecognized checksum type: sha3', key: 'checksum_types' },
        ],
      ],
    ],
  },
  CompressionLevel: {
    rule: CompressionLevel,
    compliant: [{}, { compression_level: -1 }, { compression_level: 9 }, { compression_level: '6' }],
    nonCompliant: [
      [
        { compression_level: 10 },
        [{ message: 'Invalid compression level. Must be between -1 and 9', key: 'compression_level' }],
      ],
    ],
  },
});

describe('post-processor rules as the post-processors run them', () => {
  const summaries = (type: string, config: Record<string, unknown>) =>
    POST_PROCESSORS.get(type)
      ?.validate(config, undefined, ctx)
      .map((d) => d.summary);

  it.each([
    [
      'docker-tag',
      { tag: ['a'], tags: ['b'] },
      ['repository must be specified', 'Only one of tag or tags can be specified.'],
    ],
    ['docker-push', { ecr_login: true }, ['ECR login requires login server to be provided.']],
    ['checksum', { checksum_types: ['crc32'] }, ['Unrecognized checksum type: crc32']],
    ['compress', { compression_level: 12 }, ['Invalid compression level. Must be between -1 and 9']],
  ] as const)('%s', (type, config, expected) => {
    expect(summaries(type, config)).toEqual(expected);
  });
});
