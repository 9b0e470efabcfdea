/**
 * How Kiln configures the ECR repositories it creates for docker builds (functions/lib/ecr/ensure.ts): tag
 * mutability, the customer-managed key, and the lifecycle policy. The deployer sets them on the stack (infra fills
 * the environment from `KilnStackProps.ecr`); these defaults apply when a variable is absent. Pure.
 */
import type { CreateRepositoryCommandInput, Tag } from '@aws-sdk/client-ecr';
import { numberEnv, optionalEnv } from '../../../aws/env.ts';
import { TAG_MANAGED, TAG_MANAGED_VALUE } from '../../../aws/tags.ts';
import type { ResolvedRepository } from '../../../core/schema/docker-names.ts';
import { KILN_ENV } from '../../registry.ts';

/**
 * MUTABLE by default on purpose: a docker-tag with no tag (the reference template's `tag: ""`) pushes `latest`, as
 * Packer does, and every build moves `latest`; an IMMUTABLE repository refuses the second build's push
 * (ImageTagAlreadyExistsException). Choose IMMUTABLE only when every template tags with a unique value; the build
 * id tag Kiln adds is unique either way.
 */
export const TAG_MUTABILITIES = ['MUTABLE', 'IMMUTABLE'] as const;
export type TagMutability = (typeof TAG_MUTABILITIES)[number];

export interface EcrRepositorySettings {
  readonly tagMutability: TagMutability;
  /** Customer-managed KMS key (ARN) new repositories are encrypted with; absent: AES256 (ECR's own key). */
  readonly kmsKeyArn?: string;
  /**
   * The lifecycle policy's one rule: untagged images expire this many days after their push. There is no count
   * rule on purpose: ECR would expire an image a channel holds once it fell out of the count. Old images Kiln
   * built (each keeps its unique build id tag) are deleted by the Lifecycle function instead, which spares
   * channel members (core/image-registry/lifecycle.ts).
   */
  readonly untaggedExpireDays: number;
}

export const DEFAULT_ECR_SETTINGS: EcrRepositorySettings = {
  tagMutability: 'MUTABLE',
  untaggedExpireDays: 14,
};

/** The settings from the environment (KILN_ECR_*), defaults for what is absent; a malformed value fails at cold start. */
export function ecrSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): EcrRepositorySettings {
  const mutability = optionalEnv(KILN_ENV.ecrTagMutability, env) ?? DEFAULT_ECR_SETTINGS.tagMutability;
  if (!(TAG_MUTABILITIES as readonly string[]).includes(mutability)) {
    throw new Error(
      `Environment variable ${KILN_ENV.ecrTagMutability} must be one of ${TAG_MUTABILITIES.join(', ')}, got "${mutability}"`,
    );
  }
  const kmsKeyArn = optionalEnv(KILN_ENV.ecrKmsKeyArn, env);
  if (kmsKeyArn !== undefined && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(kmsKeyArn)) {
    throw new Error(`Environment variable ${KILN_ENV.ecrKmsKeyArn} must be a KMS key ARN, got "${kmsKeyArn}"`);
  }
  return {
    tagMutability: mutability as TagMutability,
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    untaggedExpireDays: numberEnv(KILN_ENV.ecrUntaggedExpireDays, DEFAULT_ECR_SETTINGS.untaggedExpireDays, env),
  };
}

/** ECR's lifecycle policy document: only untagged images expire (see `untaggedExpireDays`). */
export function lifecyclePolicy(settings: EcrRepositorySettings): string {
  const rules: object[] = [
    {
      rulePriority: 1,
      description: `Kiln: expire untagged images ${settings.untaggedExpireDays} days after their push`,
      selection: {
        tagStatus: 'untagged',
        countType: 'sinceImagePushed',
        countUnit: 'days',
        countNumber: settings.untaggedExpireDays,
      },
      action: { type: 'expire' },
    },
  ];
  return JSON.stringify({ rules });
}

/** ECR tag values: at most 256 characters of letters, digits, spaces and `+ - = . _ : / @` (EC2 allows more). */
export function ecrTagValue(value: string): string {
  return value.replace(/[^\p{L}\p{N}\s+\-=._:/@]/gu, '_').slice(0, 256);
}

/** Kiln's standard tags as ECR accepts them, with `kiln:managed=true` last (a template cannot forge it). */
export function repositoryTags(standard: readonly { Key?: string; Value?: string }[]): Tag[] {
  const tags = new Map<string, string>();
  for (const t of standard) if (t.Key) tags.set(t.Key, ecrTagValue(t.Value ?? ''));
  tags.set(TAG_MANAGED, TAG_MANAGED_VALUE);
  return [...tags].map(([Key, Value]) => ({ Key, Value }));
}

/** CreateRepository for a repository of the build's own registry: scan on push, encryption, tag mutability, tags. */
export function createRepositoryRequest(
  repository: ResolvedRepository,
  settings: EcrRepositorySettings,
  tags: Tag[],
): CreateRepositoryCommandInput {
  return {
    ...(repository.ecr ? { registryId: repository.ecr.account } : {}),
    repositoryName: repository.path,
    imageTagMutability: settings.tagMutability,
    imageScanningConfiguration: { scanOnPush: true },
    encryptionConfiguration: settings.kmsKeyArn
      ? { encryptionType: 'KMS', kmsKey: settings.kmsKeyArn }
      : { encryptionType: 'AES256' },
    tags,
  };
}
