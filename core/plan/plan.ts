/**
 * planTemplate: the normalized template → one PlannedBuild per build, deterministic for fixed inputs and
 * JSON-serializable (UnknownValue prints through toJSON). Routes each build to its driver, renders plan-time
 * legacy expressions left in HCL values, turns scripts and uploaded files into FileRefs, summarizes the build
 * for `kiln plan`, records where sensitive values went, and checks each entry fits a Step Functions payload.
 */
import { type AmazonEbsConfig, amazonEbs, amiFacts } from '../builders/amazon-ebs.ts';
import type { BuildSummary } from '../builders/driver.ts';
import { builderSpec, driverFor } from '../builders/registry.ts';
import { TemplateInvalidError } from '../errors.ts';
import { type Confinement, type FileAccess, fileAccess } from '../files/access.ts';
import { POST_PROCESSORS } from '../postprocessors/registry.ts';
import { PROVISIONERS } from '../provisioners/registry.ts';
import { display } from '../schema/values.ts';
import { type Diagnostic, type SourceRange, warning } from '../template/diagnostics.ts';
import { isRenderError, renderLegacy } from '../template/legacy/index.ts';
import {
  type BuildDef,
  type Config,
  isUnknown,
  type KeyRanges,
  type PostProcessorDef,
  type ProvisionerDef,
  type Template,
} from '../template/model.ts';
import { sensitivePaths } from '../template/sensitive.ts';
import { parseGoDuration } from '../values/duration.ts';
import { builderStagedFileKeys } from './file-keys.ts';
import { diskAccess, type PlannedFiles, planFiles } from './files.ts';
import { assertPlanFits } from './size.ts';
import { isPostProcessor } from './typed.ts';
import type { BuildPlan, FileRef, PlannedBuild, PlannedPostProcessor, PlannedProvisioner } from './types.ts';

export { redactPlan } from './redact.ts';

export interface PlanOptions {
  /** Clock for `{{timestamp}}`/`{{isotime}}`; defaults to the current time. */
  readonly now?: Date;
  readonly runUuid?: string;
  /** Replaces the legacy `{{ }}` engine (tests); defaults to core/template/legacy renderLegacy, offline. */
  readonly renderLegacy?: (text: string, build: BuildDef) => string;
  /** `packer_version` as rendered into values. */
  readonly packerVersion?: string;
  /** Disk access; defaults to unconfined (the CLI), or to one confined to `confinement.root`. */
  readonly files?: FileAccess;
  /** The pipeline's rule: scripts and uploads must resolve inside this root. */
  readonly confinement?: Confinement;
  /** Working directory of the run (LoadOptions.cwd): relative paths are looked up there first, as Packer does. */
  readonly cwd?: string;
}

/** Deep-maps strings, keeping UnknownValue instances (they serialize themselves). */
function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return value.includes('{{') ? fn(value) : value;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value && typeof value === 'object' && !isUnknown(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  }
  return value;
}

type LegacyRenderer = (text: string) => string;

interface BuildContext {
  readonly template: Template;
  readonly render: LegacyRenderer;
  readonly access: FileAccess;
  readonly files: FileRef[];
  readonly warnings: Diagnostic[];
  readonly cwd: string | undefined;
}

function renderConfig(config: Config, ctx: BuildContext): Config {
  // JSON front ends render `{{ }}` themselves (leaving run-time placeholders); HCL values may still carry them.
  return ctx.template.format === 'hcl' ? (mapStrings(config, ctx.render) as Config) : config;
}

/** Options typed once here (one rule, see core/schema/decode.ts); stages read the typed values. */
function decodeWith(
  spec: { decode: (config: Config, format: Template['format']) => Config } | undefined,
  config: Config,
  format: Template['format'],
): Config {
  return spec ? spec.decode(config, format) : config;
}

/**
 * Records the files a component stages; a path that cannot be used is fatal in the pipeline (nothing outside
 * the template's root, nothing but regular files is ever staged) and a warning for the CLI.
 */
function collectFiles(
  what: string,
  planned: Pick<PlannedFiles, 'files' | 'problems'>,
  at: { keyRanges?: KeyRanges; range?: SourceRange },
  ctx: BuildContext,
): void {
  for (const { key, problem } of planned.problems) {
    const range = at.keyRanges?.[key] ?? at.range;
    const where = range ? `${range.file}:${range.start.line}:${range.start.column}: ` : '';
    if (ctx.access.root !== undefined) throw new TemplateInvalidError(`${where}${what} "${key}": ${problem}`);
    ctx.warnings.push(warning(`File of the ${what} "${key}" cannot be used`, `${problem}.`, range));
  }
  for (const f of planned.files) {
    if (!f.directory && f.sha256 === undefined) {
      ctx.warnings.push(warning(`File ${f.relativePath} of the ${what} was not found`, undefined, at.range));
    }
  }
  ctx.files.push(...planned.files);
}

function planProvisioner(p: ProvisionerDef, index: number, ctx: BuildContext): PlannedProvisioner {
  const { config, files, problems } = planFiles(
    p.type,
    renderConfig(p.config, ctx),
    ctx.template.dir,
    ctx.access,
    ctx.cwd,
  );
  collectFiles(`${p.type} provisioner`, { files, problems }, p, ctx);
  const timeoutSeconds = p.timeout ? parseGoDuration(p.timeout) : undefined;
  const pauseBeforeSeconds = p.pauseBefore ? parseGoDuration(p.pauseBefore) : undefined;
  return {
    index,
    type: p.type,
    ...(p.name !== undefined ? { name: p.name } : {}),
    config: decodeWith(PROVISIONERS.get(p.type), config, ctx.template.format),
    files,
    ...(pauseBeforeSeconds ? { pauseBeforeSeconds } : {}),
    maxRetries: p.maxRetries ?? 0,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
  };
}

function planPostProcessor(pp: PostProcessorDef, ctx: BuildContext): PlannedPostProcessor {
  return {
    type: pp.type,
    ...(pp.name !== undefined ? { name: pp.name } : {}),
    config: decodeWith(POST_PROCESSORS.get(pp.type), renderConfig(pp.config, ctx), ctx.template.format),
    ...(pp.keepInputArtifact !== undefined ? { keepInputArtifact: pp.keepInputArtifact } : {}),
  };
}

function summarize(
  build: BuildDef,
  config: Config,
  chains: readonly (readonly PlannedPostProcessor[])[],
): BuildSummary {
  const spec = builderSpec(build.builderType);
  const base: BuildSummary = spec?.summarize(config) ?? {};
  const driver = driverFor(build.builderType);
  const tagged = chains.flat().find((pp) => pp.type === 'docker-tag' || pp.type === 'docker-import');
  const repository =
    tagged && (isPostProcessor(tagged, 'docker-tag') || isPostProcessor(tagged, 'docker-import'))
      ? display(tagged.config.repository)
      : undefined;
  return {
    ...base,
    ...(driver === 'ec2-docker' && repository ? { ecrRepository: repository } : {}),
    ...(driver === 'agent' && !base.agentLabels ? { agentLabels: [`builder:${build.builderType}`] } : {}),
  };
}

function planBuild(
  build: BuildDef,
  template: Template,
  options: PlanOptions,
  shared: FileRef[],
  warnings: Diagnostic[],
): PlannedBuild {
  const now = options.now ?? new Date();
  const render: LegacyRenderer = options.renderLegacy
    ? (text) => options.renderLegacy?.(text, build) ?? text
    : (text) => {
        // Offline: plan-time functions render; run-time data (`.HTTPIP`, build `ID`) stays as written.
        const result = renderLegacy(text, {
          mode: 'offline',
          templateDir: template.dir,
          ...(options.cwd ? { pwd: options.cwd } : {}),
          buildName: build.name,
          buildType: build.builderType,
          now,
          ...(options.packerVersion ? { packerVersion: options.packerVersion } : {}),
        });
        return isRenderError(result) ? text : result.value;
      };
  const ctx: BuildContext = {
    template,
    render,
    access: options.files ?? (options.confinement ? fileAccess({ confinement: options.confinement }) : diskAccess),
    files: shared,
    warnings,
    cwd: options.cwd,
  };
  const builderFiles = planFiles(
    build.builderType,
    renderConfig(build.config, ctx),
    template.dir,
    ctx.access,
    ctx.cwd,
    builderStagedFileKeys(build.builderType),
  );
  collectFiles(`${build.builderType} builder`, builderFiles, build, ctx);
  const config = decodeWith(builderSpec(build.builderType), builderFiles.config, template.format);
  const provisioners = build.provisioners.map((p, i) => planProvisioner(p, i, ctx));
  const postProcessors = build.postProcessors.map((chain) => chain.map((pp) => planPostProcessor(pp, ctx)));
  const rest = {
    provisioners,
    ...(build.errorCleanupProvisioner
      ? { errorCleanupProvisioner: planProvisioner(build.errorCleanupProvisioner, provisioners.length, ctx) }
      : {}),
    postProcessors,
    summary: summarize(build, config, postProcessors),
  };
  const driver = driverFor(build.builderType);
  if (build.builderType === amazonEbs.type) {
    // The amazon-ebs spec decoded it above: its options typed, and the facts its stages need derived once.
    const ebs = config as AmazonEbsConfig;
    const entry = {
      name: build.name,
      builderType: amazonEbs.type,
      driver: 'ec2-ami' as const,
      config: ebs,
      ...rest,
      ami: amiFacts(ebs),
    };
    return { ...entry, sensitivePaths: sensitivePaths(entry, template.sensitiveValues) };
  }
  if (driver === 'ec2-ami') {
    throw new TemplateInvalidError(`The ec2-ami driver runs amazon-ebs builds, not ${build.builderType}`);
  }
  const entry = { name: build.name, builderType: build.builderType, driver, config, ...rest };
  return { ...entry, sensitivePaths: sensitivePaths(entry, template.sensitiveValues) };
}

function dedupeFiles(files: readonly FileRef[]): FileRef[] {
  const byPath = new Map<string, FileRef>();
  for (const f of files) if (!byPath.has(f.path)) byPath.set(f.path, f);
  return [...byPath.values()].sort((a, b) =>
    a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0,
  );
}

/** Throws LimitExceededError (Kiln.LimitExceeded) naming the build when an entry exceeds the payload budget. */
export function planTemplate(template: Template, options: PlanOptions = {}): BuildPlan {
  const files: FileRef[] = [];
  const warnings: Diagnostic[] = [];
  const builds = template.builds.map((b) => planBuild(b, template, options, files, warnings));
  const plan: BuildPlan = {
    version: 1,
    format: template.format,
    templatePath: template.path,
    builds,
    files: dedupeFiles(files),
    warnings,
    ...(options.runUuid ? { runUuid: options.runUuid } : {}),
  };
  assertPlanFits(plan);
  return plan;
}
