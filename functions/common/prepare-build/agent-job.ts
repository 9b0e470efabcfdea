/**
 * Stages what an agent needs to run its build with the real `packer build`: the template's root as one
 * deterministic tar.gz (the template exactly as uploaded, its scripts and files; var files the request named
 * left out) and, when the request gave variables, the variables document under the build's `secrets/` prefix
 * (SSE-KMS, removed by Finalize with the sealed values). Each agent build of the plan gets `agentJob` with the
 * keys; EnqueueAgentJob turns that into the job document (aws/agent-gateway-contract.ts `agentJobPayloadSchema`)
 * and the gateway presigns both keys for the agent that leases the job.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AgentJobVariables } from '../../../aws/agent-gateway-contract.ts';
import { AGENT_BUNDLE_PATH, agentVariablesKeyFor, STAGED_TAGGING } from '../../../aws/store-layout.ts';
import { TemplateInvalidError, TransientError } from '../../../core/errors.ts';
import { fileAccess } from '../../../core/files/access.ts';
import type { BuildPlan, PlannedBuild } from '../../../core/plan/types.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { stagedFileKey } from '../../lib/plan-store.ts';
import { putSecretObject, type SecretStoreDeps } from '../../lib/sealed-values.ts';
import { CONTEXT_LIMITS, packBuildContext } from './build-context.ts';
import { VAR_FILES_FOLDER } from './fetch-template.ts';

export interface AgentJobSource {
  readonly root: string;
  /** The template file, or the root itself for an HCL2 folder. */
  readonly templatePath: string;
  /** Relative paths that are inputs, not the template's own files (fetched var files, var files named). */
  readonly leaveOut: readonly string[];
  /** The request's variables: var files (as fetched into the root, in order) then `-var` pairs. */
  readonly vars: readonly (readonly [string, string])[];
  readonly varFiles: readonly string[];
  /** Sensitive values the agent must redact from the output it sends. */
  readonly redact: readonly string[];
}

const isAgent = (b: PlannedBuild) => b.driver === 'agent';
const slash = (p: string) => p.split(sep).join('/');

/**
 * The name `packer build -only` matches: packer 1.6's legacy JSON uses the builder's name (`vmware-iso`, or its
 * `name`); HCL2 uses `<source type>.<source name>` (the planned name).
 */
export const onlyNameOf = (build: PlannedBuild): string => build.name;

export async function stageAgentJob(
  deps: SecretStoreDeps & { readonly s3: S3Client },
  buildId: string,
  source: AgentJobSource,
  plan: BuildPlan,
  stagedKeys: readonly string[],
): Promise<BuildPlan> {
  if (!plan.builds.some(isAgent)) return plan;
  const access = fileAccess({ confinement: { root: source.root } });
  const listed = access.listFiles(source.root, CONTEXT_LIMITS.maxFiles);
  if (listed.length > CONTEXT_LIMITS.maxFiles) {
    throw new TemplateInvalidError(
      `The template's folder holds more than ${CONTEXT_LIMITS.maxFiles} files, too many to hand to an agent; put the template and its files in a folder of their own`,
    );
  }
  const leaveOut = [VAR_FILES_FOLDER, ...source.leaveOut];
  const files = listed
    .map((p) => slash(relative(source.root, p)))
    .filter((r) => !leaveOut.some((x) => r === x || r.startsWith(`${x}/`)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const key = stagedFileKey(buildId, AGENT_BUNDLE_PATH);
  if (stagedKeys.includes(key)) {
    throw new TemplateInvalidError(
      `The template stages a file named ${AGENT_BUNDLE_PATH}, the name Kiln keeps for agent builds; rename the file`,
    );
  }
  const bytes = await packBuildContext(source.root, files);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await awsCall(
    'staging the template for the agent',
    (m, c) => new TransientError(m, { cause: c }),
    () =>
      deps.s3.send(
        new PutObjectCommand({
          Bucket: deps.artifactsBucket,
          Key: key,
          Body: bytes,
          ContentType: 'application/gzip',
          Tagging: STAGED_TAGGING,
        }),
      ),
  );
  let variablesKey: string | undefined;
  if (source.vars.length > 0 || source.varFiles.length > 0) {
    const document: AgentJobVariables = {
      varFiles: await Promise.all(
        source.varFiles.map(async (path) => ({
          name: slash(relative(join(source.root, VAR_FILES_FOLDER), path)),
          content: await readFile(path, 'utf8'),
        })),
      ),
      vars: source.vars.map(([k, v]) => [k, v] as [string, string]),
      redact: [...new Set(source.redact)].filter((v) => v.length > 0),
    };
    variablesKey = agentVariablesKeyFor(buildId);
    await putSecretObject(deps, variablesKey, JSON.stringify(document), 'storing the agent job variables');
  }
  const templatePath = slash(relative(source.root, source.templatePath)) || '.';
  return {
    ...plan,
    builds: plan.builds.map((b) =>
      isAgent(b)
        ? {
            ...b,
            agentJob: {
              templatePath,
              only: onlyNameOf(b),
              bundle: { key, sha256, bytes: bytes.byteLength },
              ...(variablesKey ? { variablesKey } : {}),
            },
          }
        : b,
    ),
  };
}
