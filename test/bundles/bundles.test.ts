/**
 * The deployable bundles, as deployed: `cdk synth` with bundling (the harness's cached synthesis, harness/synth.ts,
 * shared with the integration tests), Kiln's stack created in moto from that cloud assembly (real bundles as the
 * function code), then every Lambda bundle copied out of its asset folder into a fresh Node 22 process laid out
 * like the Lambda runtime (harness/lambda-sandbox.ts) and invoked once.
 * PrepareBuild runs for real on an HCL and a JSON template in the emulated template bucket (tree-sitter and
 * hcl2json from the wasm files shipped in its asset); every other function proves it loads and runs by failing
 * with its own typed error on an event it must reject.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KILN_ENV, KILN_FUNCTIONS } from '../../functions/registry.ts';
import { localAwsEnv, localClientConfig } from '../../harness/clients.ts';
import { deployKiln, type KilnDeployment } from '../../harness/deploy.ts';
import { uploadTemplateFolder } from '../../harness/kiln-local.ts';
import {
  invokeInFreshProcess,
  invokeManyInFreshProcess,
  PROJECT_ROOT,
  type Sandbox,
  sandboxFor,
} from '../../harness/lambda-sandbox.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';
import { type CloudAssembly, synthKiln } from '../../harness/synth.ts';
import { TEMPLATE_ENGINE_FILES } from '../../infra/bundle-recipe.ts';

const JSON_TEMPLATE = {
  variables: { app_version: '2.0.0' },
  builders: [
    {
      type: 'amazon-ebs',
      name: 'json-web',
      region: 'us-east-1',
      instance_type: 't3.micro',
      source_ami_filter: {
        filters: { name: 'ubuntu/images/hvm-ssd/ubuntu-*-amd64-server-*', 'root-device-type': 'ebs' },
        owners: ['099720109477'],
        most_recent: true,
      },
      ssh_username: 'ubuntu',
      ami_name: 'kiln-bundle-json-{{user `app_version`}}',
    },
  ],
  provisioners: [{ type: 'shell', inline: ['echo {{user `app_version`}}'] }],
};

let bundled: { assembly: CloudAssembly; assets: ReadonlyMap<string, string> };
let moto: MotoServer;
let deployment: KilnDeployment;
const sandboxes = new Map<string, Sandbox>();

function sandbox(id: string): Sandbox {
  let box = sandboxes.get(id);
  if (!box) {
    const asset = bundled.assets.get(id);
    if (!asset) throw new Error(`no synthesized asset for ${id}`);
    box = sandboxFor(asset);
    sandboxes.set(id, box);
  }
  return box;
}

/** The deployed registry table (the stack's RegistryTableName output). */
function registryTable(): string {
  const name = deployment.outputs.RegistryTableName;
  if (!name) throw new Error('the deployed stack has no RegistryTableName output');
  return name;
}

/** The function's environment as deployed (read back from moto's Lambda), pointed at moto for this process. */
function envFor(id: string): Record<string, string> {
  const deployed = deployedEnv.get(id);
  if (!deployed) throw new Error(`no deployed function has ${KILN_ENV.functionId}=${id}`);
  return {
    ...deployed,
    ...localAwsEnv(moto.endpoint),
    KILN_SDK_MAX_ATTEMPTS: '1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    // The registry table is not part of the stack moto created here (see registryTable()).
    [KILN_ENV.registryTable]: registryTable(),
  };
}

const deployedEnv = new Map<string, Record<string, string>>();
async function readDeployedEnv(): Promise<void> {
  const lambda = new LambdaClient(localClientConfig(moto.endpoint));
  let marker: string | undefined;
  do {
    const page = await lambda.send(new ListFunctionsCommand({ ...(marker ? { Marker: marker } : {}) }));
    for (const fn of page.Functions ?? []) {
      const vars = fn.Environment?.Variables ?? {};
      const id = vars[KILN_ENV.functionId];
      if (id) deployedEnv.set(id, vars);
    }
    marker = page.NextMarker;
  } while (marker);
}

beforeAll(async () => {
  let assembly: CloudAssembly;
  [assembly, moto] = await Promise.all([synthKiln(), startMoto()]);
  if (!assembly.bundles) throw new Error('synthKiln() gave no bundles for the real registry');
  bundled = { assembly, assets: assembly.bundles };
  deployment = await deployKiln({ endpoint: moto.endpoint, assembly: bundled.assembly });
  await readDeployedEnv();
}, 300_000);

afterAll(async () => {
  for (const box of sandboxes.values()) box.remove();
  await moto?.stop();
});

describe('cdk synth with bundling', () => {
  it('bundles one asset per registry function, each an ESM index.mjs with its source map', () => {
    expect([...bundled.assets.keys()].sort()).toEqual(KILN_FUNCTIONS.map((f) => f.id).sort());
    for (const dir of bundled.assets.values()) {
      expect(statSync(join(dir, 'index.mjs')).size).toBeGreaterThan(1000);
      expect(statSync(join(dir, 'index.mjs.map')).size).toBeGreaterThan(1000);
    }
  });

  it('ships the template engine wasm files in the functions that run it, and only there', () => {
    for (const spec of KILN_FUNCTIONS) {
      const dir = bundled.assets.get(spec.id) as string;
      for (const file of TEMPLATE_ENGINE_FILES) {
        const present = (() => {
          try {
            return statSync(join(dir, file.to)).size > 0;
          } catch {
            return false;
          }
        })();
        expect(present, `${spec.id}: ${file.to}`).toBe(spec.templateEngine === true);
      }
    }
  });

  it('deploys into moto with the real bundles as function code (no placeholder assets)', () => {
    expect(deployment.placeholderAssets).toEqual([]);
    expect(deployment.resources.filter((r) => r.type === 'AWS::Lambda::Function')).toHaveLength(KILN_FUNCTIONS.length);
  });
});

describe('PrepareBuild bundle on real templates', () => {
  it('plans the HCL example (tree-sitter and hcl2json from the shipped wasm files)', async () => {
    const key = await uploadTemplateFolder(
      moto.endpoint,
      deployment.templateBucket,
      'templates/hcl-app',
      join(PROJECT_ROOT, 'examples/amazon-ebs-basic'),
      'amazon-ebs-basic.pkr.hcl',
    );
    const result = await invokeInFreshProcess(
      sandbox('PrepareBuild').entry,
      { input: { template: { bucket: deployment.templateBucket, key } }, executionName: 'bundle-hcl' },
      envFor('PrepareBuild'),
    );
    expect(result.stderr).not.toMatch(/Error|ENOENT/);
    expect(result, result.errorMessage).toMatchObject({ ok: true });
    const value = result.value as { buildId: string; planKey: string; builds: { name: string; driver: string }[] };
    expect(value.builds).toEqual([expect.objectContaining({ name: 'amazon-ebs.web', driver: 'ec2-ami' })]);
    // The plan it wrote is real JSON in the artifacts bucket.
    const s3 = new S3Client(localClientConfig(moto.endpoint));
    const plan = await s3.send(new GetObjectCommand({ Bucket: deployment.artifactsBucket, Key: value.planKey }));
    expect(
      JSON.parse(await (plan.Body as { transformToString(): Promise<string> }).transformToString()),
    ).toHaveProperty('plan.builds', [expect.objectContaining({ name: 'amazon-ebs.web' })]);
  });

  it('plans a legacy JSON template', async () => {
    const s3 = new S3Client(localClientConfig(moto.endpoint));
    const key = 'templates/json-app/build.json';
    await s3.send(
      new PutObjectCommand({ Bucket: deployment.templateBucket, Key: key, Body: JSON.stringify(JSON_TEMPLATE) }),
    );
    const result = await invokeInFreshProcess(
      sandbox('PrepareBuild').entry,
      { input: { template: { bucket: deployment.templateBucket, key } }, executionName: 'bundle-json' },
      envFor('PrepareBuild'),
    );
    expect(result, result.errorMessage).toMatchObject({ ok: true });
    expect((result.value as { builds: { name: string }[] }).builds.map((b) => b.name)).toEqual(['json-web']);
  });

  it('reports HCL syntax errors through the bundled hcl2json gate as Kiln.TemplateInvalid', async () => {
    const s3 = new S3Client(localClientConfig(moto.endpoint));
    const key = 'templates/broken/build.pkr.hcl';
    await s3.send(
      new PutObjectCommand({
        Bucket: deployment.templateBucket,
        Key: key,
        Body: 'source "null" "a" {\n  x = 1 y = 2\n}\n',
      }),
    );
    const result = await invokeInFreshProcess(
      sandbox('PrepareBuild').entry,
      { input: { template: { bucket: deployment.templateBucket, key } }, executionName: 'bundle-broken' },
      envFor('PrepareBuild'),
    );
    expect(result.ok).toBe(false);
    expect(result.errorType).toMatch(/^Kiln\./);
    expect(result.errorMessage).toMatch(/newline/i);
  });

  const hostile: [string, unknown][] = [
    ['null event', null],
    ['array event', []],
    ['string event', 'templates/x.pkr.hcl'],
    ['empty bucket name', { input: { template: { bucket: '', key: 'k' } }, executionName: 'e' }],
    ['no execution name', { input: { template: { bucket: 'b', key: 'k' } } }],
    ['event of another source', { input: { 'detail-type': 'Object Deleted', detail: {} }, executionName: 'e' }],
  ];
  // One process for the whole table: each event is its own test, the import is paid once.
  let hostileResults: Awaited<ReturnType<typeof invokeManyInFreshProcess>>;
  beforeAll(async () => {
    hostileResults = await invokeManyInFreshProcess(
      sandbox('PrepareBuild').entry,
      hostile.map(([, event]) => event),
      envFor('PrepareBuild'),
    );
  }, 120_000);
  it.each(hostile.map(([name], i) => [name, i] as const))(
    'rejects a hostile event (%s) with Kiln.InputInvalid',
    (_name, i) => {
      expect(hostileResults[i]).toMatchObject({ ok: false, errorType: 'Kiln.InputInvalid' });
    },
  );
});

describe('every other bundle loads and runs', () => {
  const byTrigger = (api: boolean) =>
    KILN_FUNCTIONS.filter((f) => f.id !== 'PrepareBuild' && (f.trigger.kind === 'api-route') === api).map((f) => [
      f.id,
    ]);

  it.each(byTrigger(false))('%s rejects an empty event with its typed error Kiln.InputInvalid', async (id) => {
    const result = await invokeInFreshProcess(sandbox(id).entry, {}, envFor(id));
    expect(result.stderr).toBe('');
    expect(result).toMatchObject({ ok: false, errorType: 'Kiln.InputInvalid', exitCode: 0 });
    // Names the first field its own schema requires (stages: state or buildId; ShellLocal: buildName; the agent
    // task: taskToken; the scheduled ones: the event's detail-type; the fleet slots: executionArn).
    expect(result.errorMessage).toMatch(
      /The function input is not valid: .*(state|buildId|buildName|taskToken|detail-type|executionArn)/,
    );
  });

  it.each(byTrigger(true))('%s answers an empty proxy event with 400 and the contract error body', async (id) => {
    const result = await invokeInFreshProcess(sandbox(id).entry, { body: '{' }, envFor(id));
    expect(result.stderr).toBe('');
    expect(result).toMatchObject({ ok: true, value: { statusCode: 400 } });
    const body = JSON.parse((result.value as { body: string }).body) as { error: { code: string } };
    expect(body.error.code).toBe('InvalidRequest');
  });
});
