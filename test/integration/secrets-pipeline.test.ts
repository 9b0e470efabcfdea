/**
 * A build with marker secrets on the local emulator: a sensitive variable and an `amazon-secretsmanager` data
 * source inside the allowed prefix, used in environment_vars, inline commands and tags. Afterwards every place an
 * observer could read is searched (not assumed clean) for the markers and their encodings, while the provisioner
 * on the builder must still have received the real values.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetObjectCommand, ListBucketsCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../harness/clients.ts';
import { EXAMPLE_TEMPLATE_DIR, EXAMPLE_TEMPLATE_FILE } from '../../harness/example.ts';
import {
  followExecution,
  type KilnLocal,
  nextPumpedStart,
  startKilnLocal,
  uploadTemplateFolder,
} from '../../harness/kiln-local.ts';
import { leaksOf } from '../security/encodings.ts';

const EXAMPLE_DIR = EXAMPLE_TEMPLATE_DIR;
const TEMPLATE = EXAMPLE_TEMPLATE_FILE;
/** In the template (a sensitive variable's default): the uploader's own input. */
const VAR_MARKER = 'KilnVarMarker-4b7e/q+Z';
/** Only in Secrets Manager: must appear nowhere but on the builder. */
const SECRET_MARKER = 'KilnSecretMarker-91c3&x=y';
const SECRET_NAME = 'kiln/test/db';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('secrets in the local emulator pipeline', () => {
  let kiln: KilnLocal;
  const captured: string[] = [];
  const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

  beforeAll(async () => {
    // DEBUG: every handler logs its (redacted) input, so the logs searched below are not empty.
    kiln = await startKilnLocal({ synth: { context: { 'kiln:logLevel': 'DEBUG' } } });
    // Capture everything the in-process handlers log (Powertools writes JSON lines to stdout/stderr).
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      captured.push(String(chunk));
      return writes.out(chunk, ...rest);
    }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      captured.push(String(chunk));
      return writes.err(chunk, ...rest);
    }) as typeof process.stderr.write;
  }, 240_000);
  afterAll(async () => {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    await kiln?.stop();
  });

  it('builds with the real values on the builder and leaves no trace of them anywhere else', async () => {
    const config = localClientConfig(kiln.aws.endpoint);
    await new SecretsManagerClient(config).send(
      new CreateSecretCommand({ Name: SECRET_NAME, SecretString: SECRET_MARKER }),
    );

    const dir = mkdtempSync(join(tmpdir(), 'kiln-secrets-'));
    cpSync(EXAMPLE_DIR, dir, { recursive: true });
    let text = readFileSync(join(dir, TEMPLATE), 'utf8');
    text = text.replace(
      'locals {',
      `variable "db_password" {\n  type      = string\n  sensitive = true\n  default   = "${VAR_MARKER}"\n}\n\n` +
        `data "amazon-secretsmanager" "api" {\n  name = "${SECRET_NAME}"\n}\n\nlocals {`,
    );
    text = text.replace(
      '    Team    = "platform"\n',
      '    Team    = "platform"\n    Secret  = var.db_password\n    Encoded = base64encode(data.amazon-secretsmanager.api.value)\n',
    );
    const provisioner =
      'provisioner "shell" {\n' +
      '    environment_vars = ["DB_PASSWORD=${var.db_password}", "API_KEY=${data.amazon-secretsmanager.api.value}"]\n' +
      '    inline = [\n' +
      '      "printf %s \\"$DB_PASSWORD\\" > \\"/srv/received-var\\"",\n' +
      '      "printf %s \\"$API_KEY\\" > \\"/srv/received-env\\"",\n' +
      '      "printf %s \'${data.amazon-secretsmanager.api.value}\' > \\"/srv/received-inline\\"",\n' +
      '      "printf %s \'${base64encode(var.db_password)}\' > \\"/srv/received-b64\\"",\n' +
      '      "echo provisioned with secrets",\n' +
      '    ]\n  }\n';
    text = text.replace(/\n}\s*$/, `\n  ${provisioner}}\n`);
    writeFileSync(join(dir, TEMPLATE), text);

    const before = kiln.pump.starts.length;
    await uploadTemplateFolder(kiln.aws.endpoint, kiln.deployment.templateBucket, 'templates/secrets', dir, TEMPLATE);
    const start = await nextPumpedStart(kiln.pump, before);
    expect(start.error).toBeUndefined();
    const done = await followExecution(kiln.aws.endpoint, start.executionArn ?? '', undefined, { timeoutMs: 300_000 });
    const output = JSON.parse(done.output ?? '{}') as { status: string; buildId: string; manifest: string };
    expect(done.status).toBe('SUCCEEDED');
    expect(output.status).toBe('SUCCEEDED');

    // The provisioner on the builder received the real values (environment, inline, derived).
    const received = Object.fromEntries(
      filesUnder(kiln.aws.sandboxRoot)
        .filter((f) => /received-/.test(f))
        .map((f) => [f.split('received-')[1], readFileSync(f, 'utf8')]),
    );
    expect(received).toEqual({
      var: VAR_MARKER,
      env: SECRET_MARKER,
      inline: SECRET_MARKER,
      b64: Buffer.from(VAR_MARKER).toString('base64'),
    });

    const markers = [VAR_MARKER, SECRET_MARKER];
    const places: Record<string, string> = {};

    // Every version of every object in every bucket (the uploaded template itself excepted for the variable's
    // default, which the uploader wrote there: it must still hold no trace of the Secrets Manager value).
    const s3 = new S3Client(config);
    let objects = 0;
    for (const bucket of (await s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket.Name }));
      for (const v of versions.Versions ?? []) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket.Name, Key: v.Key, VersionId: v.VersionId }));
        const body = (await got.Body?.transformToString('utf8')) ?? '';
        objects += 1;
        const own = bucket.Name === kiln.deployment.templateBucket && v.Key?.endsWith(TEMPLATE);
        places[`s3://${bucket.Name}/${v.Key}#${v.VersionId}`] = own ? body.split(VAR_MARKER).join('(own input)') : body;
      }
    }
    expect(objects).toBeGreaterThan(3);
    expect(Object.keys(places).some((k) => k.includes(`secrets/${output.buildId}/`))).toBe(false);

    // The shim's SSM command records: parameters (what SendCommand carried) and outputs.
    const commands = kiln.aws.router.shim.allCommands();
    expect(commands.length).toBeGreaterThanOrEqual(4);
    places['ssm commands'] = JSON.stringify(commands.map((c) => ({ ...c, invocations: [...c.invocations.values()] })));
    expect(places['ssm commands']).toContain('secrets/'); // the one-shot bootstrap was used

    // Execution history, output, the builds table, the handlers' own log lines (what CloudWatch Logs would get).
    const sfn = new SFNClient(config);
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: start.executionArn, maxResults: 1000 }),
    );
    expect(history.events?.length ?? 0).toBeGreaterThan(10);
    places['execution history'] = JSON.stringify(history.events);
    places['execution output'] = done.output ?? '';
    const ddb = new DynamoDBClient(config);
    for (const table of (await ddb.send(new ListTablesCommand({}))).TableNames ?? []) {
      places[`dynamodb ${table}`] = JSON.stringify((await ddb.send(new ScanCommand({ TableName: table }))).Items);
    }
    places['captured handler logs'] = captured.join('');
    expect(places['captured handler logs'].length).toBeGreaterThan(0);

    // AMI tags (set from the template's tags): <sensitive>, not the value.
    const images = await new EC2Client(config).send(
      new DescribeImagesCommand({
        Owners: ['self'],
        Filters: [{ Name: 'tag:kiln:build-id', Values: [output.buildId] }],
      }),
    );
    const tags = Object.fromEntries((images.Images?.[0]?.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({ Secret: '<sensitive>', Encoded: '<sensitive>' });
    places['image tags'] = JSON.stringify(images.Images);

    const found = Object.entries(places).flatMap(([where, body]) =>
      leaksOf(body, markers).map((l) => `${where}: ${l}`),
    );
    expect(found).toEqual([]);
  }, 400_000);
});
