/**
 * The agent driver end to end in the local emulator: a template upload starts the real state machine, whose agent
 * branch (`lambda:invoke.waitForTaskToken`) runs EnqueueAgentJob's bundle; a real `kiln-agent` process (the
 * dist bundle, registered with a one-time token) leases the job through the API front, downloads the template
 * bundle by its presigned URL, runs Debian's `packer build -only=<build>` and completes; the gateway answers the
 * task. Asserted: the null and file builds succeed with packer's artifacts in the manifest; the vmware reference
 * template, unchanged, reaches the agent (it `packer validate`s what it wrote) and fails clearly with "vmware not
 * available on this agent" instead of hanging; every call of the deployed roles passes the IAM replay.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getArtifact } from '../../aws/image-registry-store.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { VMWARE_REFERENCE } from '../../harness/example.ts';
import { formatDenials, type IamGuard } from '../../harness/iam-guard.ts';
import {
  followExecution,
  type KilnLocal,
  nextPumpedStart,
  startKilnLocal,
  uploadTemplateFile,
  uploadTemplateFolder,
} from '../../harness/kiln-local.ts';
import { type LocalAgent, startLocalAgent } from '../../harness/local-agent.ts';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const BUILD_TIMEOUT_MS = 180_000;

interface BuildOutput {
  buildId: string;
  status: string;
  manifest: string;
  builds: {
    name: string;
    status: string;
    artifactId?: string;
    error?: string;
    cause?: string;
    registry?: { artifactId: string };
  }[];
}

describe('agent builds in the local emulator (real kiln-agent, real packer)', () => {
  let kiln: KilnLocal;
  let agent: LocalAgent;

  beforeAll(async () => {
    kiln = await startKilnLocal({
      scheduleSeconds: 2,
      agents: { heartbeatSeconds: 5, queueTimeoutSeconds: 120, pollIntervalMs: 200 },
    });
    agent = await startLocalAgent(kiln, { name: 'local-lab' });
  }, 300_000);
  afterAll(async () => {
    await agent?.stop();
    await kiln?.stop();
  });

  async function build(prefix: string, file: string) {
    const before = kiln.pump.starts.length;
    const dir = join(EXAMPLES, prefix);
    await uploadTemplateFolder(kiln.aws.endpoint, kiln.deployment.templateBucket, `templates/${prefix}`, dir, file);
    const start = await nextPumpedStart(kiln.pump, before);
    expect(start.error).toBeUndefined();
    const done = await followExecution(kiln.aws.endpoint, start.executionArn ?? '', undefined, {
      timeoutMs: BUILD_TIMEOUT_MS,
    });
    return { status: done.status, output: JSON.parse(done.result ?? '{}') as BuildOutput };
  }

  it("runs the null and file builds on the agent and records packer's artifacts", {
    timeout: BUILD_TIMEOUT_MS,
  }, async () => {
    const { status, output } = await build('agent-builds', 'agent-builds.json');
    expect(output.builds.map((b) => [b.name, b.status, b.cause ?? ''])).toEqual([
      ['null', 'SUCCEEDED', ''],
      ['release-notes', 'SUCCEEDED', ''],
    ]);
    expect(status).toBe('SUCCEEDED');
    expect(output.builds.map((b) => b.artifactId)).toEqual(['Null', 'File']);
    const s3 = new S3Client(localClientConfig(kiln.aws.endpoint));
    const key = output.manifest.replace(`s3://${kiln.deployment.artifactsBucket}/`, '');
    const object = await s3.send(new GetObjectCommand({ Bucket: kiln.deployment.artifactsBucket, Key: key }));
    const manifest = JSON.parse((await object.Body?.transformToString()) ?? '{}') as {
      builds: { name: string; builder_type: string; artifact_id: string; files: { name: string }[] | null }[];
    };
    expect(manifest.builds.map((b) => [b.name, b.builder_type, b.artifact_id, b.files?.map((f) => f.name)])).toEqual([
      ['null', 'null', 'Null', undefined],
      ['release-notes', 'file', 'File', ['release-notes.txt']],
    ]);
    // The image registry: the file build is an agent artifact on `latest` (the file stays on the agent's host:
    // this agent does not upload); the null build made no file and is not recorded.
    expect(output.builds[0]?.registry).toBeUndefined();
    const artifactId = output.builds[1]?.registry?.artifactId ?? '';
    const registry = {
      dynamo: new DynamoDBClient(localClientConfig(kiln.aws.endpoint)),
      table: kiln.deployment.outputs.RegistryTableName ?? '',
      ssm: (region: string) => new SSMClient(localClientConfig(kiln.aws.endpoint, region)),
      homeRegion: 'us-east-1',
    };
    const artifact = await getArtifact(registry, artifactId);
    expect(artifact?.content).toEqual({
      kind: 'agent',
      files: [{ name: 'release-notes.txt', location: `agent://${agent.agentId}/release-notes.txt` }],
    });
    expect(artifact).toMatchObject({ template: 'agent-builds/agent-builds', build: 'release-notes' });
  });

  it('hands the vmware reference template, unchanged, to the agent, which refuses it: no VMware here', {
    timeout: BUILD_TIMEOUT_MS,
  }, async () => {
    expect(JSON.parse(readFileSync(VMWARE_REFERENCE, 'utf8')).builders[0].type).toBe('vmware-iso');
    const before = kiln.pump.starts.length;
    const key = 'templates/vmware/vmware-ubuntu-apache.json';
    await uploadTemplateFile(kiln.aws.endpoint, kiln.deployment.templateBucket, key, VMWARE_REFERENCE);
    const start = await nextPumpedStart(kiln.pump, before);
    const done = await followExecution(kiln.aws.endpoint, start.executionArn ?? '', undefined, {
      timeoutMs: BUILD_TIMEOUT_MS,
    });
    const status = done.status;
    const output = JSON.parse(done.result ?? '{}') as BuildOutput;
    expect(status).toBe('FAILED');
    const [result] = output.builds;
    expect(result).toMatchObject({ name: 'vmware-iso', status: 'FAILED', error: 'Kiln.DriverUnavailable' });
    expect(result?.cause).toContain('vmware not available on this agent');
    // The agent wrote the job's template and packer validated it before refusing.
    expect(agent.output()).toMatch(/packer validate/);
  });

  it('every call the deployed roles made is one their policies allow', async () => {
    const iam = kiln.aws.router.iam as IamGuard;
    const report = await iam.replay(iam.calls);
    expect(report.unmodelled).toEqual({});
    expect(report.denied, formatDenials(report.denied)).toEqual([]);
    // The agent's path went through the deployed roles: enqueue, lease, answer.
    const callers = new Set(iam.calls.map((c) => c.caller.display));
    for (const id of ['EnqueueAgentJob', 'AgentAcquire', 'AgentComplete']) {
      expect(
        [...callers].some((c) => c.includes(id)),
        id,
      ).toBe(true);
    }
  });
});
