/**
 * Reading the CDK context (`cdk.json` "context" or `cdk synth -c key=value`) into typed settings. Pure: takes a
 * getter, so tests need no App. Values from `-c` arrive as strings, values from cdk.json as JSON.
 */

import { TAG_MUTABILITIES, type TagMutability } from '../functions/lib/ecr/settings.ts';
import { DEFAULT_SECRET_PREFIX } from '../functions/registry.ts';
import type { KilnNotifications } from './constructs/notifications.ts';
import type { SecretScope } from './constructs/permission-basics.ts';
import type { ScheduledBuild } from './constructs/triggers.ts';

export interface KilnContext {
  /** `kiln:stackName`, default `Kiln`. */
  readonly stackName: string;
  readonly account?: string;
  readonly region?: string;
  /** Both or neither: `vpcId` + `subnetIds` (comma list or array). */
  readonly existingVpc?: { readonly vpcId: string; readonly subnetIds: readonly string[] };
  /** `kiln:egressPorts` (comma list or array), default [80, 443]. */
  readonly egressPorts?: readonly number[];
  /** `kiln:privateEndpoints` (true) with `kiln:endpointsKms` and, for an existing VPC, `kiln:routeTableIds`. */
  readonly privateEndpoints?: { readonly routeTableIds?: readonly string[]; readonly kms?: boolean };
  /** `kiln:kmsKeyArns` (comma list or array): customer-managed keys templates may use. */
  readonly kmsKeyArns?: readonly string[];
  /** `kiln:digestRegistries` (comma list or array, `none` for none): registries base image digests are read from. */
  readonly digestRegistries?: readonly string[];
  /** `kiln:schedules`: JSON array of `{ name, cron, template: { bucket, key }, timezone?, onlyIfChanged? }`. */
  readonly schedules: readonly ScheduledBuild[];
  /** `kiln:scheduleFailureLimit`: failed scheduled builds in a row that disable their schedule (default 3). */
  readonly scheduleFailureLimit?: number;
  /**
   * `kiln:notifications`: JSON `{ "email": ["ops@example.com"], "detailTypes": ["Kiln Build Failed"] }` or
   * `{ "topicArn": "arn:aws:sns:..." }`: Kiln's events to an SNS topic (constructs/notifications.ts).
   */
  readonly notifications?: KilnNotifications;
  /**
   * The fleet bound (`KilnStackProps.fleet`): `kiln:fleetMaxConcurrentBuilds`, `kiln:fleetWaitSeconds`,
   * `kiln:fleetRecheckSeconds`, `kiln:fleetMaxWaitSeconds` (whole numbers; the stack checks their bounds).
   */
  readonly fleet?: Partial<Record<'maxConcurrentBuilds' | 'waitSeconds' | 'recheckSeconds' | 'maxWaitSeconds', number>>;
  /** `kiln:stateMachinesDir`: where the `*.asl.json` files are (relative to the project root). */
  readonly stateMachinesDir?: string;
  /** `kiln:logLevel`: Powertools log level of every function. */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** `kiln:secretPrefix` (default `kiln/`) and `kiln:secretTag` (`key=value`): what templates may read. */
  readonly secretScope?: SecretScope;
  /**
   * ECR repositories Kiln creates: `kiln:ecrTagMutability` (MUTABLE | IMMUTABLE), `kiln:ecrKms` (true: the stack's
   * data key, else AES256), `kiln:ecrUntaggedExpireDays` (untagged images only: old images are the Lifecycle function's).
   */
  readonly ecr?: {
    readonly tagMutability?: TagMutability;
    readonly encryption?: 'AES256' | 'KMS';
    readonly untaggedExpireDays?: number;
  };
}

export type ContextGetter = (key: string) => unknown;

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

export function readKilnContext(get: ContextGetter): KilnContext {
  const vpcId = optionalString(get, 'vpcId');
  const subnetIds = list(get('subnetIds'), 'subnetIds');
  if ((vpcId === undefined) !== (subnetIds.length === 0)) {
    throw new Error('context: give both vpcId and subnetIds (comma list), or neither to let Kiln create a VPC');
  }
  const egress = list(get('kiln:egressPorts'), 'kiln:egressPorts').map((port) => {
    const n = Number(port);
    if (!Number.isInteger(n)) throw new Error(`context kiln:egressPorts: "${port}" is not a port`);
    return n;
  });
  const logLevel = optionalString(get, 'kiln:logLevel');
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new Error(`context kiln:logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const privateEndpoints = flag(get, 'kiln:privateEndpoints');
  const routeTableIds = list(get('kiln:routeTableIds'), 'kiln:routeTableIds');
  const endpointsKms = flag(get, 'kiln:endpointsKms');
  if (!privateEndpoints && (routeTableIds.length > 0 || endpointsKms)) {
    throw new Error('context kiln:routeTableIds and kiln:endpointsKms need kiln:privateEndpoints=true');
  }
  const kmsKeyArns = list(get('kiln:kmsKeyArns'), 'kiln:kmsKeyArns');
  const digestRegistries = list(get('kiln:digestRegistries'), 'kiln:digestRegistries');
  const account = optionalString(get, 'account');
  const region = optionalString(get, 'region');
  const stateMachinesDir = optionalString(get, 'kiln:stateMachinesDir');
  const failureLimit = get('kiln:scheduleFailureLimit');
  const scheduleFailureLimit =
    failureLimit === undefined || failureLimit === null || failureLimit === '' ? undefined : Number(failureLimit);
  if (scheduleFailureLimit !== undefined && !(Number.isInteger(scheduleFailureLimit) && scheduleFailureLimit >= 1)) {
    throw new Error(`context kiln:scheduleFailureLimit must be a whole number of at least 1, got "${failureLimit}"`);
  }
  const secretPrefix = optionalString(get, 'kiln:secretPrefix');
  const secretTag = optionalString(get, 'kiln:secretTag');
  const tagMatch = secretTag === undefined ? undefined : /^([^=]+)=(.+)$/.exec(secretTag);
  if (secretTag !== undefined && !tagMatch) throw new Error('context kiln:secretTag must be key=value');
  const ecr = ecrOptions(get);
  const fleet = fleetOptions(get);
  return {
    ...(Object.keys(fleet).length > 0 ? { fleet } : {}),
    stackName: optionalString(get, 'kiln:stackName') ?? 'Kiln',
    ...(Object.keys(ecr).length > 0 ? { ecr } : {}),
    ...(account ? { account } : {}),
    ...(region ? { region } : {}),
    ...(vpcId ? { existingVpc: { vpcId, subnetIds } } : {}),
    ...(egress.length > 0 ? { egressPorts: egress } : {}),
    ...(privateEndpoints
      ? {
          privateEndpoints: {
            ...(routeTableIds.length > 0 ? { routeTableIds } : {}),
            ...(endpointsKms ? { kms: true } : {}),
          },
        }
      : {}),
    ...(kmsKeyArns.length > 0 ? { kmsKeyArns } : {}),
    ...(digestRegistries.length > 0
      ? { digestRegistries: digestRegistries.length === 1 && digestRegistries[0] === 'none' ? [] : digestRegistries }
      : {}),
    schedules: schedules(get('kiln:schedules')),
    ...notificationsContext(get('kiln:notifications')),
    ...(scheduleFailureLimit !== undefined ? { scheduleFailureLimit } : {}),
    ...(stateMachinesDir ? { stateMachinesDir } : {}),
    ...(logLevel ? { logLevel: logLevel as KilnContext['logLevel'] & string } : {}),
    ...(secretPrefix || tagMatch
      ? {
          secretScope: {
            prefix: secretPrefix ?? DEFAULT_SECRET_PREFIX,
            ...(tagMatch
              ? { tag: { key: (tagMatch[1] as string).trim(), value: (tagMatch[2] as string).trim() } }
              : {}),
          },
        }
      : {}),
  };
}

function ecrOptions(get: ContextGetter): NonNullable<KilnContext['ecr']> {
  const mutability = optionalString(get, 'kiln:ecrTagMutability');
  if (mutability !== undefined && !(TAG_MUTABILITIES as readonly string[]).includes(mutability)) {
    throw new Error(`context kiln:ecrTagMutability must be one of ${TAG_MUTABILITIES.join(', ')}`);
  }
  const whole = (key: string, min: number): number | undefined => {
    const value = get(key);
    if (value === undefined || value === null || value === '') return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`context ${key} must be a whole number of ${min} or more`);
    return n;
  };
  const untaggedExpireDays = whole('kiln:ecrUntaggedExpireDays', 1);
  return {
    ...(mutability ? { tagMutability: mutability as TagMutability } : {}),
    ...(flag(get, 'kiln:ecrKms') ? { encryption: 'KMS' as const } : {}),
    ...(untaggedExpireDays !== undefined ? { untaggedExpireDays } : {}),
  };
}

function flag(get: ContextGetter, key: string): boolean {
  const value = get(key);
  if (value === undefined || value === null || value === '' || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new Error(`context ${key} must be true or false`);
}

function optionalString(get: ContextGetter, key: string): string | undefined {
  const value = get(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`context ${key} must be a string`);
  return value.trim();
}

function list(value: unknown, key: string): string[] {
  if (value === undefined || value === null || value === '') return [];
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
  if (!items) throw new Error(`context ${key} must be a comma list or an array`);
  return items.map((item) => String(item).trim()).filter((item) => item.length > 0);
}

function schedules(value: unknown): ScheduledBuild[] {
  if (value === undefined || value === null || value === '') return [];
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!Array.isArray(parsed)) throw new Error('context kiln:schedules must be a JSON array');
  return parsed.map((item: unknown, index) => {
    const s = item as Partial<ScheduledBuild> | null;
    if (!s || typeof s.name !== 'string' || typeof s.cron !== 'string' || !s.template) {
      throw new Error(`context kiln:schedules[${index}] needs name, cron and template {bucket, key}`);
    }
    const { bucket, key } = s.template;
    if (typeof bucket !== 'string' || typeof key !== 'string') {
      throw new Error(`context kiln:schedules[${index}].template needs bucket and key strings`);
    }
    return {
      name: s.name,
      cron: s.cron,
      template: { bucket, key },
      ...(s.timezone ? { timezone: s.timezone } : {}),
      ...(s.onlyIfChanged === true ? { onlyIfChanged: true } : {}),
    };
  });
}

/** `kiln:notifications` as the stack prop; the construct checks the addresses and detail-types. */
function notificationsContext(raw: unknown): { notifications?: KilnNotifications } {
  if (raw === undefined || raw === null || raw === '') return {};
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error(
        'context kiln:notifications must be JSON: {"email":["ops@example.com"]} or {"topicArn":"arn:aws:sns:..."}',
      );
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('context kiln:notifications must be a JSON object with email, topicArn or detailTypes');
  }
  const v = value as Record<string, unknown>;
  const extra = Object.keys(v).filter((k) => !['email', 'topicArn', 'detailTypes'].includes(k));
  if (extra.length > 0) throw new Error(`context kiln:notifications: unknown keys ${extra.join(', ')}`);
  const strings = (key: string): string[] | undefined => {
    const x = v[key];
    if (x === undefined) return undefined;
    if (!Array.isArray(x) || !x.every((e) => typeof e === 'string')) {
      throw new Error(`context kiln:notifications.${key} must be a list of strings`);
    }
    return x;
  };
  const email = strings('email');
  const detailTypes = strings('detailTypes');
  if (v.topicArn !== undefined && typeof v.topicArn !== 'string') {
    throw new Error('context kiln:notifications.topicArn must be an SNS topic ARN');
  }
  return {
    notifications: {
      ...(email ? { email } : {}),
      ...(typeof v.topicArn === 'string' ? { topicArn: v.topicArn } : {}),
      ...(detailTypes ? { detailTypes: detailTypes as KilnNotifications['detailTypes'] & string[] } : {}),
    },
  };
}

/** `kiln:fleet*` context values as numbers; anything not a number is refused here, bounds by the stack. */
function fleetOptions(get: ContextGetter): NonNullable<KilnContext['fleet']> {
  const keys = ['maxConcurrentBuilds', 'waitSeconds', 'recheckSeconds', 'maxWaitSeconds'] as const;
  const fleet: Partial<Record<(typeof keys)[number], number>> = {};
  for (const key of keys) {
    const name = `kiln:fleet${key[0]?.toUpperCase()}${key.slice(1)}`;
    const raw = get(name);
    if (raw === undefined || raw === null || raw === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`context ${name} must be a number, got "${String(raw)}"`);
    fleet[key] = value;
  }
  return fleet;
}
