/**
 * What a Kiln deployment lets a template use, checked before anything is launched (PrepareBuild, and
 * `kiln validate --pipeline`):
 * - customer-managed KMS keys: only the key ARNs the deployer listed (`kiln:kmsKeyArns`), because Kiln's roles
 *   are granted exactly those keys; a key outside the list would fail deep inside RunInstances or CopyImage
 *   (or, worse, work through a too-broad grant). Aliases cannot be matched to a key offline, so templates name
 *   allowed keys by ARN or key id.
 * - instance profiles: builders always run with Kiln's own least-privilege profile (SSM + staged files + logs);
 *   a template's `iam_instance_profile` or `temporary_iam_instance_profile_policy_document` is refused instead
 *   of silently replaced, because Kiln's role may pass only its builder role.
 * Reported on the option, with its file, line and column.
 */

import type { SourceRange } from '../../template/diagnostics.ts';
import { type Diagnostic, error } from '../../template/diagnostics.ts';
import type { Config, KeyRanges } from '../../template/model.ts';
import { isUnknown } from '../../template/model.ts';
import type { TemplateRule } from './types.ts';

const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/((?:mrk-)?[0-9a-f-]+)$/;

interface ParsedKeyArn {
  readonly region: string;
  readonly keyId: string;
}

export function parseKmsKeyArn(arn: string): ParsedKeyArn | undefined {
  const m = KEY_ARN.exec(arn);
  return m ? { region: m[1] as string, keyId: m[3] as string } : undefined;
}

/**
 * Why `value` (a template's key reference, used in `region` when known) is not an allowed key, or undefined
 * when it is one: the exact ARN, or the bare key id of an allowed key in that region.
 */
export function kmsKeyProblem(
  value: string,
  region: string | undefined,
  allowed: readonly string[],
): string | undefined {
  const listed = allowed.length > 0 ? `Allowed keys: ${allowed.join(', ')}.` : 'This deployment allows none.';
  const how =
    'A deployer allows a key with the `kiln:kmsKeyArns` context (or the KilnStack `kmsKeyArns` prop), which also ' +
    'grants Kiln the KMS permissions EC2 needs for it.';
  if (value.startsWith('alias/') || /^arn:aws[a-z-]*:kms:[^:]*:\d*:alias\//.test(value)) {
    return `"${value}" is a KMS alias; Kiln grants keys by ARN and cannot tell offline which key an alias names: use the key's ARN. ${listed} ${how}`;
  }
  const parsed = parseKmsKeyArn(value);
  if (parsed) {
    if (allowed.includes(value)) return undefined;
    return `"${value}" is not a key this Kiln deployment may use. ${listed} ${how}`;
  }
  const matches = allowed.map(parseKmsKeyArn).filter((k) => k?.keyId === value && (!region || k.region === region));
  if (matches.length > 0) return undefined;
  return `key id "${value}"${region ? ` in ${region}` : ''} is not a key this Kiln deployment may use. ${listed} ${how}`;
}

function knownText(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && !isUnknown(value) ? value : undefined;
}

function blocks(value: unknown): Config[] {
  const items = Array.isArray(value) ? value : value && typeof value === 'object' ? [value] : [];
  return items.filter((x): x is Config => !!x && typeof x === 'object' && !Array.isArray(x) && !isUnknown(x));
}

function checkKeys(config: Config, allowed: readonly string[], report: (key: string, detail: string) => void): void {
  const region = knownText(config.region);
  const main = knownText(config.kms_key_id);
  if (main) {
    const problem = kmsKeyProblem(main, region, allowed);
    if (problem) report('kms_key_id', `kms_key_id: ${problem}`);
  }
  const regionKeys = config.region_kms_key_ids;
  if (regionKeys && typeof regionKeys === 'object' && !Array.isArray(regionKeys) && !isUnknown(regionKeys)) {
    for (const [target, v] of Object.entries(regionKeys as Config)) {
      const key = knownText(v);
      const problem = key ? kmsKeyProblem(key, target, allowed) : undefined;
      if (problem) report('region_kms_key_ids', `region_kms_key_ids["${target}"]: ${problem}`);
    }
  }
  for (const option of ['launch_block_device_mappings', 'ami_block_device_mappings']) {
    for (const device of blocks(config[option])) {
      const key = knownText(device.kms_key_id);
      const problem = key ? kmsKeyProblem(key, region, allowed) : undefined;
      const name = knownText(device.device_name) ?? '(no device_name)';
      if (problem) report(option, `${option} ${name} kms_key_id: ${problem}`);
    }
  }
}

const PROFILE_OPTIONS = ['iam_instance_profile', 'temporary_iam_instance_profile_policy_document'] as const;

export const DeploymentScope: TemplateRule = (template, ctx) => {
  const pipeline = ctx.deployment !== undefined || ctx.confinement !== undefined;
  if (!pipeline) return [];
  const out: Diagnostic[] = [];
  for (const build of template.builds) {
    if (!build.builderType.startsWith('amazon-')) continue;
    const at = (ranges: KeyRanges | undefined, key: string): SourceRange | undefined => ranges?.[key] ?? build.range;
    for (const option of PROFILE_OPTIONS) {
      const v = build.config[option];
      if (v === undefined || v === null || v === '') continue;
      out.push(
        error(
          `Unsupported argument "${option}" in the Kiln pipeline`,
          `Kiln launches every builder with its own instance profile (Systems Manager, the build's staged files and ` +
            `its logs) and may pass no other role, so ${option} cannot be honoured. Remove it (and ssh_interface = ` +
            `"session_manager", which Kiln does not need). To give builders more permissions, the deployer adds ` +
            'them to the builder role (KilnStack.builder.role in the CDK app).',
          at(build.keyRanges, option),
        ),
      );
    }
    if (ctx.deployment) {
      checkKeys(build.config, ctx.deployment.kmsKeyArns, (key, detail) =>
        out.push(error(`KMS key not allowed in "${key}"`, detail, at(build.keyRanges, key))),
      );
    }
  }
  return out;
};
