/**
 * What AWS authorizes for one API request: the request as the router sees it (SigV4 scope, EC2 Query body, S3
 * REST path, JSON target) becomes the list of (action, resource ARN, context keys) AWS evaluates for it, with
 * the context AWS supplies: request tags, the resource's current tags, `ec2:CreateAction` for tags applied on
 * create, `ec2:Vpc`, `iam:PassedToService`, `s3:prefix`. The resource facts that need a lookup (tags, VPC of a
 * subnet, role of an instance profile) come through `ResourceFacts`, read from moto at call time.
 *
 * Only calls Kiln makes are modelled; anything else is `undefined` (reported by the replay as not checked).
 */
import { parameterArn } from '../aws/docker-host.ts';
import type { AuthorizationRequest } from './iam-evaluate.ts';

export interface ParsedCall {
  /** SigV4 service name (`ec2`, `s3`, `ssm`, `lambda`, `dynamodb`, ...). */
  readonly service: string;
  /** IAM action name without the prefix for Query/JSON APIs; for S3 and Lambda the IAM action derived. */
  readonly action: string;
  readonly region: string;
  readonly accessKeyId?: string;
  /** EC2 Query parameters, or the JSON body of a JSON-protocol call. */
  readonly params: Readonly<Record<string, unknown>>;
  /** S3: bucket, key, query and (DeleteObjects) the keys of the body. */
  readonly s3?: { bucket: string; key: string; query: URLSearchParams; keys: { key: string; versioned: boolean }[] };
}

export type Tags = Readonly<Record<string, string>>;

export interface ResourceFacts {
  /** Current tags of EC2 resources (instances, images, snapshots, volumes) by id. */
  tags(region: string, ids: readonly string[]): Promise<Readonly<Record<string, Tags>>>;
  vpcOfSubnet(region: string, subnetId: string): Promise<string | undefined>;
  vpcOfSecurityGroup(region: string, groupId: string): Promise<string | undefined>;
  /** The role ARN of an instance profile (by name or ARN). */
  roleOfInstanceProfile(nameOrArn: string): Promise<string | undefined>;
  /** Current tags of an ECR repository (undefined when it does not exist). */
  ecrRepositoryTags(region: string, registryId: string, name: string): Promise<Tags | undefined>;
}

export const JSON_TARGETS: Readonly<Record<string, string>> = {
  AmazonSSM: 'ssm',
  DynamoDB_20120810: 'dynamodb',
  secretsmanager: 'secretsmanager',
  Logs_20140328: 'logs',
  AWSStepFunctions: 'states',
  AmazonEC2ContainerRegistry_V20150921: 'ecr',
};

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

/** The request as IAM sees it, or undefined when it is not a signed AWS API call the harness understands. */
export function parseCall(
  method: string,
  url: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Buffer,
): ParsedCall | undefined {
  const parsedUrl = new URL(url, 'http://localhost');
  const auth = String(headers.authorization ?? '');
  const scope = /Credential=([^/,\s]+)\/\d+\/([^/]+)\/([^/]+)\//.exec(auth);
  const presigned = /^([^/]+)\/\d+\/([^/]+)\/([^/]+)\//.exec(parsedUrl.searchParams.get('X-Amz-Credential') ?? '');
  const [, accessKeyId, region, service] = scope ?? presigned ?? [];
  if (!service || !region) return undefined;
  const base = { service, region, ...(accessKeyId ? { accessKeyId } : {}) };
  const target = String(headers['x-amz-target'] ?? '');

  if (service === 'lambda') {
    const invoke = method === 'POST' ? INVOKE_PATH.exec(parsedUrl.pathname) : null;
    const name = invoke?.[1] ? decodeURIComponent(invoke[1]) : undefined;
    return { ...base, action: name ? 'InvokeFunction' : 'Unknown', params: name ? { FunctionName: name } : {} };
  }
  if (target.includes('.')) {
    const [prefix, action] = target.split('.') as [string, string];
    const json = body.length > 0 ? safeJson(body.toString('utf8')) : {};
    return { ...base, service: JSON_TARGETS[prefix] ?? service, action, params: json };
  }
  if (service === 'ec2' || service === 'iam' || service === 'sts') {
    const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    return { ...base, action: params.Action ?? 'Unknown', params };
  }
  if (service === 's3') return parseS3(base, method, parsedUrl, headers, body);
  return { ...base, action: 'Unknown', params: {} };
}

function parseS3(
  base: { service: string; region: string; accessKeyId?: string },
  method: string,
  url: URL,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Buffer,
): ParsedCall {
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = rest.map((p) => decodeURIComponent(p)).join('/');
  const query = url.searchParams;
  const versioned = query.has('versionId');
  const keys = [...body.toString('utf8').matchAll(/<Object>([\s\S]*?)<\/Object>/g)].map((m) => ({
    key: unescapeXml(/<Key>([^<]*)<\/Key>/.exec(m[1] ?? '')?.[1] ?? ''),
    versioned: /<VersionId>/.test(m[1] ?? ''),
  }));
  let action = 'Unknown';
  if (key === '') {
    if (method === 'GET' && query.has('versions')) action = 'ListBucketVersions';
    else if (method === 'GET' && [...query.keys()].every((k) => LIST_QUERY.has(k))) action = 'ListBucket';
    else if (method === 'POST' && query.has('delete')) action = 'DeleteObjects';
  } else if (query.has('tagging')) {
    action = method === 'PUT' ? 'PutObjectTagging' : method === 'GET' ? 'GetObjectTagging' : 'Unknown';
  } else if (method === 'GET' || method === 'HEAD') {
    action = versioned ? 'GetObjectVersion' : 'GetObject';
  } else if (method === 'PUT') {
    action = headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
  } else if (method === 'DELETE') {
    action = versioned ? 'DeleteObjectVersion' : 'DeleteObject';
  }
  const tagging = headers['x-amz-tagging'] !== undefined;
  return { ...base, action, params: tagging ? { tagging: true } : {}, s3: { bucket, key, query, keys } };
}

const LIST_QUERY = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'marker',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  'x-id',
]);

function safeJson(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** EC2 Query lists: `Prefix.1`, `Prefix.2`, ... in order. */
export function queryList(params: Readonly<Record<string, unknown>>, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params[`${prefix}.${i}`] !== undefined; i++) out.push(String(params[`${prefix}.${i}`]));
  return out;
}

/** EC2 Query `TagSpecification.N` → resource type → tags. */
export function tagSpecifications(params: Readonly<Record<string, unknown>>): Map<string, Tags> {
  const specs = new Map<string, Tags>();
  for (let i = 1; params[`TagSpecification.${i}.ResourceType`] !== undefined; i++) {
    const type = String(params[`TagSpecification.${i}.ResourceType`]);
    specs.set(type, { ...specs.get(type), ...queryTags(params, `TagSpecification.${i}.Tag`) });
  }
  return specs;
}

function queryTags(params: Readonly<Record<string, unknown>>, prefix: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let i = 1; params[`${prefix}.${i}.Key`] !== undefined; i++) {
    tags[String(params[`${prefix}.${i}.Key`])] = String(params[`${prefix}.${i}.Value`] ?? '');
  }
  return tags;
}

export function requestTagContext(tags: Tags | undefined): Record<string, string | string[]> {
  if (!tags || Object.keys(tags).length === 0) return {};
  const context: Record<string, string | string[]> = { 'aws:TagKeys': Object.keys(tags) };
  for (const [k, v] of Object.entries(tags)) context[`aws:RequestTag/${k}`] = v;
  return context;
}

/** A resource's tags as each service names them (iam-simulate drops the keys an action does not support). */
export function resourceTagContext(tags: Tags | undefined, service: string): Record<string, string> {
  const context: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags ?? {})) {
    context[`aws:ResourceTag/${k}`] = v;
    context[`${service}:ResourceTag/${k}`] = v;
    if (service === 'ssm') context[`ssm:resourceTag/${k}`] = v;
  }
  return context;
}

const EC2_TYPE_BY_PREFIX: Readonly<Record<string, string>> = {
  i: 'instance',
  ami: 'image',
  snap: 'snapshot',
  vol: 'volume',
  eni: 'network-interface',
  sg: 'security-group',
  subnet: 'subnet',
  vpc: 'vpc',
};

export function ec2ResourceArn(region: string, account: string, id: string): string {
  const type = EC2_TYPE_BY_PREFIX[id.split('-')[0] ?? ''] ?? 'unknown';
  // Images and snapshots carry no account in their ARN (they may belong to anyone).
  const owner = type === 'image' || type === 'snapshot' ? '' : account;
  return `arn:aws:ec2:${region}:${owner}:${type}/${id}`;
}

/** Every authorization AWS makes for this call, or undefined when the harness does not model the action. */
export async function authorizationRequests(
  call: ParsedCall,
  account: string,
  facts: ResourceFacts,
): Promise<AuthorizationRequest[] | undefined> {
  switch (call.service) {
    case 'ec2':
      return await ec2Requests(call, account, facts);
    case 's3':
      return s3Requests(call);
    case 'ssm':
      return await ssmRequests(call, account, facts);
    case 'lambda': {
      const name = String(call.params.FunctionName ?? '');
      if (call.action !== 'InvokeFunction' || !name) return undefined;
      return [{ action: 'lambda:InvokeFunction', resource: lambdaArn(name, call.region, account), context: {} }];
    }
    case 'dynamodb': {
      const tableArn = (table: string) =>
        table.startsWith('arn:') ? table : `arn:aws:dynamodb:${call.region}:${account}:table/${table}`;
      if (call.action === 'TransactWriteItems') return transactWriteRequests(call, tableArn);
      const table = String(call.params.TableName ?? '');
      if (!table) return undefined;
      // A Query or Scan of an index is authorized on the index (`table/<t>/index/<i>`), not on the table.
      const index = typeof call.params.IndexName === 'string' ? call.params.IndexName : undefined;
      const resource = index ? `${tableArn(table)}/index/${index}` : tableArn(table);
      return [{ action: `dynamodb:${call.action}`, resource, context: {} }];
    }
    case 'states':
      return statesRequests(call);
    case 'events':
      return eventsRequests(call, account);
    case 'ecr':
      return await ecrRequests(call, account, facts);
    case 'secretsmanager': {
      const id = String(call.params.SecretId ?? '');
      if (call.action !== 'GetSecretValue' || !id) return undefined;
      const resource = id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${call.region}:${account}:secret:${id}`;
      return [{ action: 'secretsmanager:GetSecretValue', resource, context: {} }];
    }
    default:
      return undefined;
  }
}

/**
 * ECR (docker builds): every repository action is authorized on the repository's ARN with its tags (Kiln's roles
 * are conditioned on `kiln:managed`), CreateRepository with its request tags; GetAuthorizationToken has no resource.
 */
async function ecrRequests(
  call: ParsedCall,
  account: string,
  facts: ResourceFacts,
): Promise<AuthorizationRequest[] | undefined> {
  const action = `ecr:${call.action}`;
  if (call.action === 'GetAuthorizationToken') return [{ action, resource: '*', context: {} }];
  const { params, region } = call;
  const registry = String(params.registryId ?? account);
  const arnOf = (name: string) => `arn:aws:ecr:${region}:${registry}:repository/${name}`;
  const fromArn = typeof params.resourceArn === 'string' ? /:repository\/(.+)$/.exec(params.resourceArn) : null;
  const names =
    typeof params.repositoryName === 'string'
      ? [params.repositoryName]
      : fromArn?.[1]
        ? [fromArn[1]]
        : Array.isArray(params.repositoryNames)
          ? params.repositoryNames.map(String)
          : [];
  // DescribeRepositories without names lists the registry: authorized on every repository.
  if (names.length === 0)
    return call.action === 'DescribeRepositories' ? [{ action, resource: arnOf('*'), context: {} }] : undefined;
  if (call.action === 'CreateRepository') {
    const tags = Array.isArray(params.tags) ? (params.tags as { Key?: unknown; Value?: unknown }[]) : [];
    const requested = Object.fromEntries(tags.map((t) => [String(t.Key), String(t.Value ?? '')]));
    const context = requestTagContext(requested);
    // Tags on create are also authorized as ecr:TagResource (modelled as AWS documents tag-on-create).
    return names.flatMap((name) => [
      { action, resource: arnOf(name), context },
      ...(tags.length > 0 ? [{ action: 'ecr:TagResource', resource: arnOf(name), context }] : []),
    ]);
  }
  return await Promise.all(
    names.map(async (name) => ({
      action,
      resource: arnOf(name),
      context: resourceTagContext(await facts.ecrRepositoryTags(region, registry, name), 'ecr'),
    })),
  );
}

/**
 * Step Functions calls of Kiln's functions: the task callbacks of the agent gateway have no resource type in IAM
 * (`*`: the task token is the capability).
 */
function statesRequests(call: ParsedCall): AuthorizationRequest[] | undefined {
  const action = `states:${call.action}`;
  switch (call.action) {
    case 'SendTaskSuccess':
    case 'SendTaskFailure':
    case 'SendTaskHeartbeat':
      return [{ action, resource: '*', context: {} }];
    default:
      return undefined;
  }
}

/**
 * EventBridge PutEvents (Kiln's events): AWS authorizes each entry on its bus (`default` when none is named) with
 * the entry's `events:source` and `events:detail-type`, which Kiln's `kiln-events` statement conditions on.
 */
function eventsRequests(call: ParsedCall, account: string): AuthorizationRequest[] | undefined {
  if (call.action !== 'PutEvents' || !Array.isArray(call.params.Entries)) return undefined;
  return (call.params.Entries as Record<string, unknown>[]).map((entry) => {
    const bus = typeof entry.EventBusName === 'string' && entry.EventBusName !== '' ? entry.EventBusName : 'default';
    return {
      action: 'events:PutEvents',
      resource: bus.startsWith('arn:') ? bus : `arn:aws:events:${call.region}:${account}:event-bus/${bus}`,
      // Multivalued keys (ArrayOfString), one value each per entry.
      context: {
        'events:source': [String(entry.Source ?? '')],
        'events:detail-type': [String(entry.DetailType ?? '')],
      },
    };
  });
}

/** A transaction has no IAM action of its own: AWS authorizes each item as its operation on its table. */
function transactWriteRequests(call: ParsedCall, tableArn: (table: string) => string): AuthorizationRequest[] {
  const operations: Readonly<Record<string, string>> = {
    Put: 'PutItem',
    Update: 'UpdateItem',
    Delete: 'DeleteItem',
    ConditionCheck: 'ConditionCheckItem',
  };
  const items = Array.isArray(call.params.TransactItems)
    ? (call.params.TransactItems as Record<string, unknown>[])
    : [];
  return items.flatMap((item) =>
    Object.entries(item).flatMap(([kind, op]) => {
      const table = String((op as { TableName?: unknown } | undefined)?.TableName ?? '');
      const operation = operations[kind];
      return operation && table ? [{ action: `dynamodb:${operation}`, resource: tableArn(table), context: {} }] : [];
    }),
  );
}

export function lambdaArn(nameOrArn: string, region: string, account: string): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn.split(':').slice(0, 7).join(':');
  return `arn:aws:lambda:${region}:${account}:function:${nameOrArn}`;
}

const EC2_READ_ONLY = /^Describe/;
const EC2_ON_RESOURCE_TAG: Readonly<Record<string, string>> = {
  StopInstances: 'InstanceId',
  TerminateInstances: 'InstanceId',
  DeregisterImage: 'ImageId',
  DeleteSnapshot: 'SnapshotId',
  ModifyImageAttribute: 'ImageId',
  ModifySnapshotAttribute: 'SnapshotId',
  EnableImageDeprecation: 'ImageId',
};

async function ec2Requests(
  call: ParsedCall,
  account: string,
  facts: ResourceFacts,
): Promise<AuthorizationRequest[] | undefined> {
  const { params, region } = call;
  const action = `ec2:${call.action}`;
  if (EC2_READ_ONLY.test(call.action)) return [{ action, resource: '*', context: {} }];
  const idParam = EC2_ON_RESOURCE_TAG[call.action];
  if (idParam) {
    const ids = params[idParam] !== undefined ? [String(params[idParam])] : queryList(params, idParam);
    const tags = await facts.tags(region, ids);
    return ids.map((id) => ({
      action,
      resource: ec2ResourceArn(region, account, id),
      context: resourceTagContext(tags[id], 'ec2'),
    }));
  }
  const specs = tagSpecifications(params);
  const own = (type: string, resource: string, extra: Record<string, string | string[]> = {}) => ({
    action,
    resource,
    context: { ...requestTagContext(specs.get(type)), ...extra },
  });
  // Tags given on create are authorized as ec2:CreateTags with ec2:CreateAction (tag-on-create).
  const tagOnCreate = (types: readonly string[], pattern: (type: string) => string) =>
    types
      .filter((type) => specs.has(type))
      .map((type) => ({
        action: 'ec2:CreateTags',
        resource: pattern(type),
        context: { ...requestTagContext(specs.get(type)), 'ec2:CreateAction': call.action },
      }));
  switch (call.action) {
    case 'RunInstances': {
      const any = (type: string) => `arn:aws:ec2:${region}:${account}:${type}/*`;
      const subnet = params.SubnetId ? String(params.SubnetId) : undefined;
      const vpc = subnet ? await facts.vpcOfSubnet(region, subnet) : undefined;
      const vpcContext: Record<string, string> = vpc
        ? { 'ec2:Vpc': `arn:aws:ec2:${region}:${account}:vpc/${vpc}` }
        : {};
      const out: AuthorizationRequest[] = [
        own('instance', any('instance')),
        own('volume', any('volume')),
        { action, resource: any('network-interface'), context: vpcContext },
        { action, resource: `arn:aws:ec2:${region}::image/${String(params.ImageId ?? '*')}`, context: {} },
      ];
      if (subnet) out.push({ action, resource: ec2ResourceArn(region, account, subnet), context: vpcContext });
      for (const group of queryList(params, 'SecurityGroupId')) {
        const groupVpc = await facts.vpcOfSecurityGroup(region, group);
        out.push({
          action,
          resource: ec2ResourceArn(region, account, group),
          context: groupVpc ? { 'ec2:Vpc': `arn:aws:ec2:${region}:${account}:vpc/${groupVpc}` } : {},
        });
      }
      out.push(...tagOnCreate(['instance', 'volume'], any));
      const profile = params['IamInstanceProfile.Arn'] ?? params['IamInstanceProfile.Name'];
      if (profile !== undefined) {
        const role = await facts.roleOfInstanceProfile(String(profile));
        out.push({
          action: 'iam:PassRole',
          resource: role ?? `arn:aws:iam::${account}:role/unknown-instance-profile-role`,
          context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
        });
      }
      return out;
    }
    case 'CreateImage': {
      const instance = String(params.InstanceId ?? '');
      const tags = await facts.tags(region, [instance]);
      const any = (type: string) => `arn:aws:ec2:${region}::${type}/*`;
      return [
        {
          action,
          resource: ec2ResourceArn(region, account, instance),
          context: resourceTagContext(tags[instance], 'ec2'),
        },
        own('image', any('image')),
        own('snapshot', any('snapshot')),
        ...tagOnCreate(['image', 'snapshot'], any),
      ];
    }
    case 'CopyImage': {
      const any = (type: string) => `arn:aws:ec2:${region}::${type}/*`;
      const source = `arn:aws:ec2:${String(params.SourceRegion ?? region)}::image/${String(params.SourceImageId ?? '')}`;
      return [own('image', any('image')), { action, resource: source, context: {} }, ...tagOnCreate(['image'], any)];
    }
    case 'CreateTags': {
      const ids = queryList(params, 'ResourceId');
      const tags = await facts.tags(region, ids);
      const requested = queryTags(params, 'Tag');
      return ids.map((id) => ({
        action,
        resource: ec2ResourceArn(region, account, id),
        context: { ...requestTagContext(requested), ...resourceTagContext(tags[id], 'ec2') },
      }));
    }
    default:
      return undefined;
  }
}

function s3Requests(call: ParsedCall): AuthorizationRequest[] | undefined {
  const s3 = call.s3;
  if (!s3 || call.action === 'Unknown') return undefined;
  const bucketArn = `arn:aws:s3:::${s3.bucket}`;
  if (call.action === 'ListBucket' || call.action === 'ListBucketVersions') {
    return [
      { action: `s3:${call.action}`, resource: bucketArn, context: { 's3:prefix': s3.query.get('prefix') ?? '' } },
    ];
  }
  if (call.action === 'DeleteObjects') {
    return s3.keys.map((k) => ({
      action: k.versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject',
      resource: `${bucketArn}/${k.key}`,
      context: {},
    }));
  }
  const resource = `${bucketArn}/${s3.key}`;
  const out: AuthorizationRequest[] = [{ action: `s3:${call.action}`, resource, context: {} }];
  if (call.action === 'PutObject' && call.params.tagging)
    out.push({ action: 's3:PutObjectTagging', resource, context: {} });
  return out;
}

/** SSM documents owned by AWS have no account in their ARN. */
function documentArn(name: string, region: string, account: string): string {
  if (name.startsWith('arn:')) return name;
  return `arn:aws:ssm:${region}:${name.startsWith('AWS-') ? '' : account}:document/${name}`;
}

async function ssmRequests(
  call: ParsedCall,
  account: string,
  facts: ResourceFacts,
): Promise<AuthorizationRequest[] | undefined> {
  const action = `ssm:${call.action}`;
  switch (call.action) {
    case 'SendCommand': {
      // Authorized on the document and on each instance (with the instance's tags).
      const ids = (call.params.InstanceIds as unknown[] | undefined)?.map(String) ?? [];
      const tags = await facts.tags(call.region, ids);
      return [
        { action, resource: documentArn(String(call.params.DocumentName ?? ''), call.region, account), context: {} },
        ...ids.map((id) => ({
          action,
          resource: `arn:aws:ec2:${call.region}:${account}:instance/${id}`,
          context: resourceTagContext(tags[id], 'ssm'),
        })),
      ];
    }
    case 'GetCommandInvocation':
    case 'ListCommandInvocations':
    case 'ListCommands':
    case 'DescribeInstanceInformation':
    case 'CancelCommand':
      return [{ action, resource: '*', context: {} }];
    case 'GetParameter':
    case 'PutParameter':
    case 'GetParameters': {
      const names = call.action === 'GetParameters' ? ((call.params.Names as unknown[]) ?? []) : [call.params.Name];
      return names.map((n) => {
        const name = String(n);
        const resource = name.startsWith('arn:') ? name : parameterArn(name, 'aws', call.region, account);
        return { action, resource, context: {} };
      });
    }
    default:
      return undefined;
  }
}
