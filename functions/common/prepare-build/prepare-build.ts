/**
 * PrepareBuild: fetch the template by version id, load and validate it with the shared template engine
 * (resolving AWS data sources), plan one entry per build, stage the referenced files, store the plan, record
 * the build, and return a SMALL payload. The buildId comes from the execution name, so a retried PrepareBuild
 * writes the same objects and the same record instead of a second build.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { ConditionalCheckFailedException, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ChangeVerdict, InputFingerprint } from '../../../aws/build-fingerprint.ts';
import {
  BUILD_START_CONDITION,
  buildStartItem,
  MAX_RECORDED_VALUE,
  MAX_RECORDED_VARIABLES,
  type RecordedVariable,
} from '../../../aws/build-records.ts';
import { buildStartedEvent, trimText } from '../../../aws/events-contract.ts';
import { describeFailures, type EventSink } from '../../../aws/events-emitter.ts';
import { registryTemplateName } from '../../../aws/image-registry-records.ts';
import { notATemplate } from '../../../aws/trigger-contract.ts';
import type { Driver } from '../../../core/builders/driver.ts';
import { NotFoundError, TemplateInvalidError, TransientError } from '../../../core/errors.ts';
import { sealPlan } from '../../../core/plan/seal.ts';
import type { DeploymentAllowances } from '../../../core/template/deployment.ts';
import { hasErrors } from '../../../core/template/diagnostics.ts';
import type { VariableInfo } from '../../../core/template/model.ts';
import { REDACTED, redactText as redact } from '../../../core/template/sensitive.ts';
import { pipelineLoadOptions } from '../../../core/validation/pipeline.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { type BuildState, initialState } from '../../lib/build-state.ts';
import { baseImagesOf, planKeyFor, type StoredPlan } from '../../lib/plan-store.ts';
import type { ImageDigestResolver } from '../../lib/registry-digest.ts';
import { encryptionFor, storeSealedValues } from '../../lib/sealed-values.ts';
import { buildIdFor } from '../../lib/tokens.ts';
import { stageAgentJob } from './agent-job.ts';
import { archiveKindOf } from './archive.ts';
import { stageBuildContext } from './build-context.ts';
import type { TemplateEngine } from './engine.ts';
import { fetchVarFiles, sourceFor, VAR_FILES_FOLDER } from './fetch-template.ts';
import type { BuildRequest } from './input.ts';
import { invalidTemplateCause } from './invalid-cause.ts';
import { inputFingerprint, onlyIfChangedVerdict, unchangedSkip, withoutSensitive } from './only-if-changed.ts';
import { awsResolvers, type ResolverDeps } from './resolvers.ts';
import { readSidecar, withSidecar } from './sidecar.ts';
import { stageFiles } from './stage-files.ts';
import { claimUpload } from './upload-claim.ts';

export interface PrepareDeps {
  readonly s3: S3Client;
  readonly dynamo: DynamoDBClient;
  readonly artifactsBucket: string;
  /** KMS key of the artifacts bucket, for the sealed values object. */
  readonly dataKeyId?: string;
  readonly buildsTable: string;
  readonly resolvers: ResolverDeps;
  readonly engine: TemplateEngine;
  readonly now: () => Date;
  /** What the deployment lets templates use (its KMS keys); absent means none (AWS-managed keys only). */
  readonly deployment?: DeploymentAllowances;
  /**
   * A docker base image's current digest (functions/lib/registry-digest.ts), for the fingerprint and the lineage;
   * absent: a tag is recorded as written (and an only-if-changed build of it always counts as changed).
   */
  readonly resolveImageDigest?: ImageDigestResolver;
  /** `Kiln Build Started` goes here once the build is recorded; absent: no event. */
  readonly events?: EventSink;
  /** Says an event EventBridge did not take (the handler logs it); a notification never fails the build. */
  readonly warn?: (message: string, detail: Record<string, unknown>) => void;
}

export interface PreparedBuild {
  readonly buildId: string;
  readonly planKey: string;
  /** One entry per build; `state` is the build state its Map iteration starts with (the ASL passes it as is). */
  readonly builds: {
    readonly index: number;
    readonly name: string;
    readonly driver: Driver;
    readonly state: BuildState;
  }[];
  /**
   * Why nothing is built, else null; the ASL ends there: the object that triggered is not a template, or a
   * scheduled build with only-if-changed found its inputs unchanged (`skipped: unchanged since build kb-…`).
   */
  readonly skipped: string | null;
}

export { buildIdFor } from '../../lib/tokens.ts';

const transient = (m: string, c: unknown) => new TransientError(m, { cause: c });

export async function prepareBuild(
  deps: PrepareDeps,
  started: BuildRequest,
  executionName: string,
): Promise<PreparedBuild> {
  const buildId = buildIdFor(executionName);
  const dir = await mkdtemp(join(tmpdir(), 'kiln-template-'));
  try {
    const key = started.template.key;
    const lower = key.toLowerCase();
    const keySkip = notATemplate(key);
    if (keySkip) return { buildId, planKey: '', builds: [], skipped: keySkip };
    // Before anything is read: a duplicated upload event ends here (upload-claim.ts).
    const duplicate = await claimUpload(deps, started, { name: executionName, buildId });
    if (duplicate) return { buildId, planKey: '', builds: [], skipped: duplicate };
    const materialized = await materialize(deps.s3, started, dir);
    // `.json` is shared by templates, var files and app files beside them: only a Packer template builds.
    if (lower.endsWith('.json') && !lower.endsWith('.pkr.json')) {
      const content = await readFile(materialized.templatePath, 'utf8');
      const skipped = notATemplate(key, content);
      if (skipped) return { buildId, planKey: '', builds: [], skipped };
    }
    // An upload or a schedule takes its inputs from the template's sidecar, checked like a direct request.
    const sidecar = await readSidecar(deps.s3, started, materialized.root);
    const request = withSidecar(started, sidecar);
    const leaveOut = [...contextLeaveOut(request), ...(sidecar?.localPath ? [sidecar.localPath] : [])];
    const sensitive: string[] = [];
    const now = deps.now();
    const fetchedVarFiles = await fetchVarFiles(deps.s3, request.template.bucket, request.varFiles, materialized.root);
    // The pipeline's rules: every path the template names stays inside its root, env() sees nothing.
    const result = await deps.engine.load(
      materialized.templatePath,
      pipelineLoadOptions(materialized.root, {
        vars: request.vars,
        varFiles: fetchedVarFiles,
        only: request.only,
        except: request.except,
        now,
        resolvers: awsResolvers(deps.resolvers, sensitive),
        deployment: deps.deployment ?? { kmsKeyArns: [] },
      }),
    );
    const secrets = [...sensitive, ...(result.template?.sensitiveValues ?? [])];
    const uploaded = materialized.uploadedFile;
    // Ranges name files relative to the load's cwd, the root.
    const declares = (file: string | undefined) => file !== undefined && resolve(materialized.root, file) === uploaded;
    if (uploaded && result.template && !result.template.builds.some((b) => declares(b.buildRange?.file))) {
      const skipped = `${key} declares no build: it is part of its folder's template, which builds when a file with a build block is uploaded`;
      return { buildId, planKey: '', builds: [], skipped };
    }
    if (!result.template || hasErrors(result.diagnostics)) {
      const cause = invalidTemplateCause(
        result.diagnostics.filter((d) => d.severity === 'error'),
        { sources: result.sources },
        (text) => redact(text.split(materialized.root).join(materialized.displayRoot), secrets),
      );
      throw new TemplateInvalidError(cause);
    }
    const plan = await deps.engine.plan(result.template, { now, root: materialized.root });
    if (plan.builds.length === 0) throw new TemplateInvalidError('The template has no builds left after only/except');

    // Every build records its inputs, so a later only-if-changed run can compare with it whatever started it.
    const fingerprint = withoutSensitive(
      await inputFingerprint(
        {
          ec2For: deps.resolvers.ec2For,
          homeRegion: deps.resolvers.homeRegion,
          ...(deps.resolveImageDigest ? { resolveImageDigest: deps.resolveImageDigest } : {}),
        },
        {
          root: materialized.root,
          ...(request.template.versionId ? { versionId: request.template.versionId } : {}),
          builds: plan.builds,
        },
      ),
      secrets,
    );
    const changeCheck = request.onlyIfChanged
      ? await awsCall('reading the last successful build of the template', transient, () =>
          onlyIfChangedVerdict(deps, request.template, fingerprint),
        )
      : undefined;
    const variables = recordedVariables(result.template.variables, secrets);
    if (changeCheck && !changeCheck.changed) {
      // Nothing staged or stored yet: the record keeps the verdict, and the execution ends as NotATemplate does.
      // No event: nothing is built (docs/events.md); the builds table lists it SKIPPED with the verdict.
      const summary = plan.builds.map((b, index) => ({ index, name: b.name, driver: b.driver }));
      await recordBuild(deps, {
        buildId,
        executionName,
        request,
        builds: summary,
        createdAt: now.toISOString(),
        fingerprint,
        changeCheck,
        variables,
        skippedAt: now.toISOString(),
      });
      return { buildId, planKey: '', builds: [], skipped: unchangedSkip(changeCheck) };
    }

    const stagedKeys = await stageFiles(deps.s3, deps.artifactsBucket, buildId, materialized.root, plan.files);
    const staged = await stageBuildContext(
      deps.s3,
      deps.artifactsBucket,
      buildId,
      { root: materialized.root, templatePath: materialized.templatePath, leaveOut },
      plan,
      stagedKeys,
    );
    const withAgentJobs = await stageAgentJob(
      deps,
      buildId,
      {
        root: materialized.root,
        templatePath: materialized.templatePath,
        leaveOut,
        vars: request.vars,
        varFiles: fetchedVarFiles,
        redact: secrets,
      },
      staged,
      stagedKeys,
    );
    const planKey = planKeyFor(buildId);
    // plan.json never holds a sensitive value: they go to the sealed object (see functions/PIPELINE.md, Secrets).
    const values = [...new Set(secrets)];
    const { plan: sealedPlan, table } = sealPlan(withAgentJobs, values, randomBytes(12).toString('hex'));
    const sealed = table.forms.length > 0;
    if (sealed) await storeSealedValues(deps, buildId, { version: 1, values, table });
    const baseImages = baseImagesOf(fingerprint);
    const stored: StoredPlan = {
      version: 1,
      buildId,
      executionName,
      template: request.template,
      plan: sealedPlan,
      ...(sealed ? { sealed: true } : {}),
      ...(Object.keys(baseImages).length > 0 ? { baseImages } : {}),
      createdAt: now.toISOString(),
    };
    await awsCall('storing the build plan', transient, () =>
      deps.s3.send(
        new PutObjectCommand({
          Bucket: deps.artifactsBucket,
          Key: planKey,
          Body: JSON.stringify(stored),
          ContentType: 'application/json',
          ...encryptionFor(deps),
        }),
      ),
    );
    const builds = sealedPlan.builds.map((b, index) => ({
      index,
      name: b.name,
      driver: b.driver,
      state: initialState({ buildId, executionName, planKey, index, name: b.name }, b.driver),
    }));
    await recordBuild(deps, {
      buildId,
      executionName,
      request,
      builds,
      createdAt: now.toISOString(),
      fingerprint,
      variables,
      ...(changeCheck ? { changeCheck } : {}),
    });
    await emitStarted(deps, {
      buildId,
      executionName,
      request,
      builds,
      createdAt: now.toISOString(),
      ...(changeCheck ? { changeCheck } : {}),
    });
    return { buildId, planKey, builds, skipped: null };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Paths in the template's root that the build context leaves out although they are there: the variable files
 * PrepareBuild fetched into it, and variable files the request names that sit in the template's S3 folder (a
 * plain `.json` var file is not recognizable by its name, and may hold secrets).
 */
function contextLeaveOut(request: BuildRequest): string[] {
  const out = [VAR_FILES_FOLDER];
  if (archiveKindOf(request.template.key) !== undefined) return out;
  const folder = posix.dirname(request.template.key);
  const prefix = folder === '.' ? '' : `${folder}/`;
  for (const key of request.varFiles) if (key.startsWith(prefix)) out.push(key.slice(prefix.length));
  return out;
}

async function materialize(s3: S3Client, request: BuildRequest, dir: string) {
  try {
    return await sourceFor(request.template.key).materialize(s3, request.template, dir);
  } catch (err) {
    if (!(err instanceof NotFoundError) || !request.rawKey) throw err;
    return await sourceFor(request.rawKey).materialize(s3, { ...request.template, key: request.rawKey }, dir);
  }
}

async function recordBuild(
  deps: PrepareDeps,
  r: {
    buildId: string;
    executionName: string;
    request: BuildRequest;
    builds: readonly { readonly index: number; readonly name: string; readonly driver: string }[];
    createdAt: string;
    fingerprint: InputFingerprint;
    changeCheck?: ChangeVerdict;
    variables?: readonly RecordedVariable[];
    /** Set when only-if-changed skipped the build: it is recorded SKIPPED, finished at this time. */
    skippedAt?: string;
  },
): Promise<void> {
  const { template } = r.request;
  try {
    await deps.dynamo.send(
      new PutItemCommand({
        TableName: deps.buildsTable,
        Item: buildStartItem(
          {
            buildId: r.buildId,
            executionName: r.executionName,
            template,
            trigger: r.request.trigger,
            createdAt: r.createdAt,
            builds: r.builds.map((b) => ({ index: b.index, name: b.name, driver: b.driver })),
            ...(r.request.schedule ? { schedule: r.request.schedule } : {}),
            ...(r.request.requestedVia ? { requestedVia: r.request.requestedVia } : {}),
            fingerprint: r.fingerprint,
            ...(r.changeCheck ? { changeCheck: r.changeCheck } : {}),
            ...(r.variables ? { variables: r.variables } : {}),
          },
          r.skippedAt,
        ),
        // A retried PrepareBuild must not reset a record that later stages already updated.
        ConditionExpression: BUILD_START_CONDITION,
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return;
    await awsCall('recording the build', transient, () => Promise.reject(err));
  }
}

/**
 * The template's variables as the record keeps them: each final value as text, `<sensitive>` for a sensitive
 * variable, every known secret redacted from the others, cut to MAX_RECORDED_VALUE characters.
 */
export function recordedVariables(variables: readonly VariableInfo[], secrets: readonly string[]): RecordedVariable[] {
  return variables.slice(0, MAX_RECORDED_VARIABLES).map((v) => {
    const raw = v.value === undefined ? undefined : typeof v.value === 'string' ? v.value : JSON.stringify(v.value);
    const value =
      raw === undefined ? undefined : v.sensitive ? REDACTED : trimText(redact(raw, secrets), MAX_RECORDED_VALUE);
    return {
      name: v.name,
      ...(value !== undefined ? { value } : {}),
      ...(v.valueSource ? { source: v.valueSource } : {}),
    };
  });
}

/**
 * `Kiln Build Started`, after the record is written (a retried PrepareBuild emits again: at least once). A failed
 * PutEvents is said through `warn`, never thrown: the build goes on.
 */
async function emitStarted(
  deps: PrepareDeps,
  r: {
    buildId: string;
    executionName: string;
    request: BuildRequest;
    builds: readonly { readonly index: number; readonly name: string; readonly driver: string }[];
    createdAt: string;
    changeCheck?: ChangeVerdict;
  },
): Promise<void> {
  if (!deps.events) return;
  const { bucket, key, versionId } = r.request.template;
  const result = await deps.events([
    buildStartedEvent({
      buildId: r.buildId,
      executionName: r.executionName,
      template: { bucket, key, ...(versionId ? { versionId } : {}) },
      registryTemplate: registryTemplateName(key),
      trigger: r.request.trigger,
      ...(r.request.schedule ? { schedule: r.request.schedule } : {}),
      startedAt: r.createdAt,
      builds: r.builds.map((b) => ({ index: b.index, name: b.name, driver: b.driver })),
      ...(r.changeCheck?.changed
        ? {
            changeCheck: {
              changed: true as const,
              reason: r.changeCheck.reason,
              ...(r.changeCheck.comparedWith ? { comparedWith: r.changeCheck.comparedWith } : {}),
            },
          }
        : {}),
    }),
  ]);
  for (const line of describeFailures(result.failed)) deps.warn?.('kiln event not delivered', { event: line });
}
