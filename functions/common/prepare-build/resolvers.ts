/**
 * Template resolvers backed by AWS: amazon-ami / source_ami_filter, Parameter Store, Secrets Manager. Every
 * secret value they return is remembered so PrepareBuild can redact it; none is ever logged.
 */
import { DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { accessShape, filterShape } from '../../../core/builders/amazon/shape.ts';
import { TemplateInvalidError } from '../../../core/errors.ts';
import { known } from '../../../core/schema/decoded.ts';
import { decoderFor } from '../../../core/schema/define.ts';
import type { Config, Resolvers } from '../../../core/template/model.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { filterRequest, pickImage } from '../../lib/ec2/source-image.ts';

export interface ResolverDeps {
  readonly ec2For: (region: string) => EC2Client;
  readonly ssm: SSMClient;
  readonly secrets: SecretsManagerClient;
  readonly homeRegion: string;
  /**
   * Names of secrets and parameters a template may read start with this (the deployer's `kiln:secretPrefix`,
   * the same prefix the IAM policy allows). Undefined = no check here (unit tests; IAM still applies).
   */
  readonly secretPrefix?: string;
}

/** A secret id may be a name or an ARN (`arn:aws:secretsmanager:r:a:secret:name-AbCdEf`); parameters may start with /. */
export function secretNameOf(id: string): string {
  const arn = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)$/.exec(id);
  return arn?.[1] ?? id;
}

export function parameterNameOf(name: string): string {
  const arn = /^arn:[^:]+:ssm:[^:]*:[^:]*:parameter\/(.+)$/.exec(name);
  return (arn?.[1] ?? name).replace(/^\/+/, '');
}

/** Refuses a name outside the deployer's prefix, saying how to allow it. */
export function checkSecretScope(kind: 'secret' | 'parameter', id: string, prefix: string | undefined): void {
  if (prefix === undefined || prefix === '') return;
  const name = kind === 'secret' ? secretNameOf(id) : parameterNameOf(id);
  if (name.startsWith(prefix)) return;
  throw new TemplateInvalidError(
    `The ${kind} "${id}" is outside what this Kiln deployment may read: templates may only read ${kind}s whose ` +
      `name starts with "${prefix}"${kind === 'parameter' ? ` (as /${prefix}...)` : ''}. Store it under that prefix, ` +
      `or have the deployer widen it with \`cdk deploy -c kiln:secretPrefix=<prefix>\` (README, "Deploying").`,
  );
}

const invalid = (m: string, cause: unknown) => new TemplateInvalidError(m, { cause });

/** The amazon-ami data source's arguments, decoded by the shapes that validated them (one rule). */
const decodeAmazonAmi = decoderFor({ ...accessShape, ...filterShape });

export function awsResolvers(deps: ResolverDeps, sensitive: string[]): Resolvers {
  return {
    amazonAmi: async (raw: Config) => {
      const args = decodeAmazonAmi(raw);
      const region = args.region || deps.homeRegion;
      const out = await awsCall('resolving an amazon-ami data source', invalid, () =>
        deps.ec2For(region).send(new DescribeImagesCommand(filterRequest(args))),
      );
      const image = pickImage(out.Images ?? [], known(args.most_recent) ?? false);
      if (!image?.ImageId) throw new TemplateInvalidError('amazon-ami: no AMI matches the filters and owners');
      return {
        id: image.ImageId,
        name: image.Name ?? '',
        creation_date: image.CreationDate ?? '',
        owner: image.OwnerId ?? '',
        owner_id: image.OwnerId ?? '',
        architecture: image.Architecture ?? '',
        root_device_type: image.RootDeviceType ?? '',
        virtualization_type: image.VirtualizationType ?? '',
        tags: Object.fromEntries((image.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      };
    },
    parameterStore: async (name, withDecryption) => {
      checkSecretScope('parameter', name, deps.secretPrefix);
      const out = await awsCall(`reading parameter ${name}`, invalid, () =>
        deps.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: withDecryption })),
      );
      const value = out.Parameter?.Value ?? '';
      if (out.Parameter?.Type === 'SecureString') sensitive.push(value);
      return value;
    },
    secretsManager: async (secretId, key, versionStage) => {
      checkSecretScope('secret', secretId, deps.secretPrefix);
      const out = await awsCall(`reading secret ${secretId}`, invalid, () =>
        deps.secrets.send(
          new GetSecretValueCommand({ SecretId: secretId, ...(versionStage ? { VersionStage: versionStage } : {}) }),
        ),
      );
      const raw = out.SecretString ?? '';
      let value = raw;
      if (key) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          throw new TemplateInvalidError(`secret ${secretId} is not JSON, so key "${key}" cannot be read from it`);
        }
        const field = (parsed as Record<string, unknown>)[key];
        if (field === undefined) throw new TemplateInvalidError(`secret ${secretId} has no key "${key}"`);
        value = typeof field === 'string' ? field : JSON.stringify(field);
      }
      sensitive.push(value);
      if (raw !== value) sensitive.push(raw);
      return value;
    },
  };
}
