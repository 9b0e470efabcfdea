/**
 * Where things live in Kiln's buckets. One owner: the Lambdas build keys with these, and the CDK app builds
 * IAM resources, lifecycle rules and trigger patterns from the same constants.
 */
export const STORE_LAYOUT = {
  /** Uploads under this prefix of the template bucket start builds. */
  templatesPrefix: 'templates/',
  /**
   * Template bucket: bundles and var files `kiln submit` uploads (content-addressed), outside `templates/` so no
   * upload rule fires: the command starts the build itself with a direct request.
   */
  submissionsPrefix: 'submissions/',
  /** Artifacts bucket: everything per build that ages out (plan, staged files, logs, downloads). */
  buildsPrefix: 'builds/',
  /** Artifacts bucket: per-build staged files (scripts, uploads) read by the builder. */
  buildFilesPattern: 'builds/*/files/*',
  /** Artifacts bucket: per-build provisioner output written by the builder (SSM OutputS3KeyPrefix). */
  buildLogsPattern: 'builds/*/logs/*',
  /** Artifacts bucket: Packer manifests, kept (outside `builds/`, so no expiry rule reaches them). */
  manifestsPrefix: 'manifests/',
  /**
   * Artifacts bucket: files a self-hosted agent uploaded (`kiln-agent --upload-artifacts`), kept like manifests
   * (outside `builds/`, so no expiry rule reaches them): `agent-artifacts/<buildId>/<build>/<file>`.
   */
  agentArtifactsPrefix: 'agent-artifacts/',
  /** Artifacts bucket: sealed sensitive values and one-shot scripts of running builds (minutes, not days). */
  secretsPrefix: 'secrets/',
  /** Object tag set on staged files so a lifecycle rule removes them early. */
  stagedTag: { key: 'kiln:retention', value: 'staged' },
} as const;

export const buildPrefix = (buildId: string): string => `${STORE_LAYOUT.buildsPrefix}${buildId}/`;
export const planKeyFor = (buildId: string): string => `${buildPrefix(buildId)}plan.json`;
export const filesPrefix = (buildId: string): string => `${buildPrefix(buildId)}files/`;
export const manifestKeyFor = (buildId: string): string => `${STORE_LAYOUT.manifestsPrefix}${buildId}/manifest.json`;
export const stagedFileKey = (buildId: string, relativePath: string): string =>
  `${filesPrefix(buildId)}${relativePath.replace(/^\.?\/+/, '')}`;
/** `Tagging` value of a PutObject that stages a file (URL query form, as S3 wants it). */
export const STAGED_TAGGING = `${encodeURIComponent(STORE_LAYOUT.stagedTag.key)}=${encodeURIComponent(STORE_LAYOUT.stagedTag.value)}`;

/** An agent build's template bundle (staged files: shared by the execution's agent builds, removed by Finalize). */
export const AGENT_BUNDLE_PATH = '.kiln/agent-template.tar.gz';
/** An agent build's variables document: under `secrets/`, removed with the build's sealed values by Finalize. */
export const agentVariablesKeyFor = (buildId: string): string =>
  `${STORE_LAYOUT.secretsPrefix}${buildId}/agent-variables.json`;
/** Where an agent uploads one artifact file of a build (`name`: relative, checked by the contract). */
export const agentArtifactKeyFor = (buildId: string, build: string, name: string): string =>
  `${STORE_LAYOUT.agentArtifactsPrefix}${buildId}/${build}/${name}`;
