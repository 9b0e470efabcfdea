/**
 * The legacy JSON front end: file → normalized Template, following Packer's order of checks (parse, template
 * validation, min_packer_version, required variables, variable rendering, builds). Each stage that fails
 * stops interpolation, like Packer, but the model is still returned so tools can show what was read.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { type FileAccess, fileAccess } from '../../files/access.ts';
import { recordingEnv } from '../../template/credential-env.ts';
import { type Diagnostic, error, hasErrors } from '../../template/diagnostics.ts';
import type { LegacyContext } from '../../template/legacy/context.ts';
import { secretRequestKey } from '../../template/legacy/context.ts';
import { currentLimits, DEFAULT_LIMITS, limitDiagnostic } from '../../template/limits.ts';
import {
  type LoadOptions,
  type LoadResult,
  PACKER_COMPAT_VERSION,
  type Template,
  UnknownValue,
  type VariableInfo,
} from '../../template/model.ts';
import { buildDefs } from './builds.ts';
import { decodeRoot } from './decodeRoot.ts';
import { packerErrorLocation, parseJson } from './jsonParser.ts';
import { SourceMap } from './sourceMap.ts';
import { validateRaw } from './validateRaw.ts';
import { parseVarFile } from './varFiles.ts';
import { checkRequired, type InputValue, type ResolvedVariables, resolveVariables } from './variables.ts';
import { compareVersions, formatVersion, parseVersion } from './version.ts';

/** Larger templates are refused before parsing: no real template comes near, and Lambda memory is finite. */
export const MAX_TEMPLATE_BYTES = DEFAULT_LIMITS.maxFileBytes;

function readText(path: string, display: string, files: FileAccess): string | { error: string; tooLarge?: true } {
  // The budget's maxFileBytes (raised by -limit), checked before the read: the read itself is bounded by it.
  const r = files.readText(path, display, currentLimits().maxFileBytes);
  if (r.ok) return r.text;
  if (r.tooLarge) return { error: r.problem, tooLarge: true };
  return { error: r.missing ? `open ${display}: no such file or directory` : r.problem };
}

function syntaxDiagnostic(text: string, map: SourceMap, err: Parameters<typeof packerErrorLocation>[1]) {
  const loc = packerErrorLocation(text, err);
  return error(
    `Error parsing JSON: ${err.message}`,
    `At line ${loc.line}, column ${loc.column} (offset ${loc.offset})`,
    map.point(err.index),
  );
}

export async function loadJsonFile(path: string, opts: LoadOptions): Promise<LoadResult> {
  const cwd = opts.cwd ?? process.cwd();
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  const sources = new Map<string, string>();
  const files = fileAccess({
    ...(opts.confinement ? { confinement: opts.confinement } : {}),
    ...(opts.readFile ? { readFile: opts.readFile } : {}),
  });
  const read = readText(file, file, files);
  if (typeof read !== 'string') {
    const limit = currentLimits().maxFileBytes;
    const diagnostic = read.tooLarge
      ? limitDiagnostic('maxFileBytes', limit, `Template file ${path} is larger`)
      : error('Failed to read template', read.error);
    return { diagnostics: [diagnostic], sources };
  }
  const text = read;
  sources.set(path, text);
  const limits = currentLimits();
  const size = Buffer.byteLength(text, 'utf8');
  if (size > limits.maxFileBytes) {
    return {
      diagnostics: [limitDiagnostic('maxFileBytes', limits.maxFileBytes, `Template file ${path} is ${size} bytes`)],
      sources,
    };
  }
  const map = new SourceMap(path, text);
  const parsed = parseJson(text, limits.maxNestingDepth);
  if (!parsed.ok) return { diagnostics: [syntaxDiagnostic(text, map, parsed.error)], sources };
  if (parsed.tooDeepAt !== undefined) {
    const what = `A value in ${path} nests deeper than ${limits.maxNestingDepth} arrays and objects`;
    return {
      diagnostics: [limitDiagnostic('maxNestingDepth', limits.maxNestingDepth, what, map.point(parsed.tooDeepAt))],
      sources,
    };
  }
  if (parsed.duplicate) {
    const d = parsed.duplicate;
    return { diagnostics: [error(`template has duplicate field: ${d.key}`, undefined, map.range(d.keySpan))], sources };
  }
  const decoded = decodeRoot(parsed.value, map);
  const diagnostics: Diagnostic[] = [...decoded.diagnostics];
  const raw = decoded.raw;
  if (!raw || hasErrors(diagnostics)) return { diagnostics, sources };

  const dir = dirname(file);
  const envSecrets: string[] = [];
  const filesRead = [path];
  const base: LegacyContext = {
    mode: opts.resolvers?.secretsManager ? 'pipeline' : 'offline',
    // Credential-like variables read through {{env}} become sensitive values.
    env: recordingEnv(opts.env ?? {}, envSecrets),
    templateDir: dir,
    pwd: cwd,
    now: opts.now ?? new Date(),
    packerVersion: opts.packerVersion ?? PACKER_COMPAT_VERSION,
  };

  // Stage: template validation, then min_packer_version (only when the template itself is sound).
  // `validate -syntax-only` stops after decoding, as Packer's does.
  const semantic = !opts.syntaxOnly;
  if (semantic) diagnostics.push(...validateRaw(raw, map, parsed.value));
  if (semantic && !hasErrors(diagnostics) && raw.minVersion)
    diagnostics.push(...checkMinVersion(raw.minVersion, base, map));

  // Inputs: var-files in order, then -var in order (later wins).
  const inputs = new Map<string, InputValue>();
  for (const vf of opts.varFiles ?? []) {
    const vfPath = isAbsolute(vf) ? vf : resolve(cwd, vf);
    const vfText = readText(vfPath, vfPath, files);
    if (typeof vfText !== 'string') {
      diagnostics.push(error(`Could not read var-file "${vf}"`, vfText.error));
      continue;
    }
    sources.set(vf, vfText);
    filesRead.push(vf);
    const r = parseVarFile(vf, vfText);
    diagnostics.push(...r.diagnostics);
    for (const [k, v] of r.values) inputs.set(k, { value: v, source: `var-file:${vf}` });
  }
  for (const [k, v] of opts.vars ?? []) inputs.set(k, { value: v, source: 'var' });
  if (semantic && !hasErrors(diagnostics)) diagnostics.push(...checkRequired(raw.variables, inputs, map));

  const renderEnabled = semantic && !hasErrors(diagnostics);
  let resolved: ResolvedVariables | undefined;
  if (renderEnabled) {
    resolved = await resolveWithSecrets(raw.variables, inputs, base, map, opts);
    diagnostics.push(...resolved.diagnostics);
  }
  const ctx: LegacyContext = {
    ...base,
    // Without rendered variables (an earlier stage failed), builds still show with the values as written.
    userVariables: resolved?.values ?? {
      ...Object.fromEntries(raw.variables.flatMap((v) => (v.default !== undefined ? [[v.name, v.default]] : []))),
      ...Object.fromEntries([...inputs].map(([k, v]) => [k, v.value])),
    },
    unknownUserVariables: new Set(resolved?.unknown.keys() ?? []),
  };
  const built = buildDefs({
    raw,
    map,
    source: text,
    ctx,
    only: opts.only ?? [],
    except: opts.except ?? [],
    renderProblems:
      !renderEnabled || hasErrors(diagnostics) ? 'none' : waitsForCredentials(resolved) ? 'warnings' : 'errors',
  });
  diagnostics.push(...built.diagnostics);

  const sensitiveNames = new Set(raw.sensitiveVariables);
  const sensitiveValues = new Set<string>([...(resolved?.sensitive ?? []), ...built.sensitive, ...envSecrets]);
  const variables: VariableInfo[] = raw.variables.map((v) => {
    const unknown = resolved?.unknown.get(v.name);
    const value = unknown ? new UnknownValue(unknown.join(', ')) : resolved?.values[v.name];
    const sensitive = sensitiveNames.has(v.name);
    if (sensitive && typeof value === 'string' && value !== '') sensitiveValues.add(value);
    return {
      name: v.name,
      sensitive,
      required: v.required,
      ...(value !== undefined ? { value } : {}),
      ...(resolved?.sources[v.name] ? { valueSource: resolved.sources[v.name] } : {}),
      range: map.range(v.keySpan),
    };
  });
  const template: Template = {
    format: 'json',
    path,
    dir,
    files: filesRead,
    ...(raw.description ? { description: raw.description } : {}),
    ...(raw.minVersion ? { minPackerVersion: raw.minVersion.value } : {}),
    requiredPlugins: [],
    variables,
    sensitiveValues: [...sensitiveValues],
    builds: built.builds,
  };
  return { template, diagnostics, sources };
}

/** Offline, a variable read from Secrets Manager stops Packer at this point (it needs credentials). */
function waitsForCredentials(resolved: ResolvedVariables | undefined): boolean {
  return [...(resolved?.unknown.values() ?? [])].some((s) => s.some((x) => x.startsWith('aws_secretsmanager')));
}

function checkMinVersion(
  min: { value: string; span: { start: number; end: number } },
  ctx: LegacyContext,
  map: SourceMap,
): Diagnostic[] {
  const wanted = parseVersion(min.value);
  if (!wanted)
    return [error(`min_version is invalid: Malformed version: ${min.value}`, undefined, map.range(min.span))];
  const actual = parseVersion(ctx.packerVersion ?? PACKER_COMPAT_VERSION);
  if (actual && compareVersions(actual, wanted) < 0) {
    return [
      error(
        `This template requires Packer version ${formatVersion(wanted)} or higher; using ${formatVersion(actual)}`,
        undefined,
        map.range(min.span),
      ),
    ];
  }
  return [];
}

/** Pipeline mode: render, fetch the secrets the variables asked for, render again (bounded). */
async function resolveWithSecrets(
  vars: Parameters<typeof resolveVariables>[0],
  inputs: ReadonlyMap<string, InputValue>,
  base: LegacyContext,
  map: SourceMap,
  opts: LoadOptions,
): Promise<ResolvedVariables> {
  const cache = new Map<string, string>();
  let resolved = resolveVariables(vars, inputs, { ...base, secrets: cache }, map);
  const resolver = opts.resolvers?.secretsManager;
  for (let round = 0; round < 3 && resolver && resolved.pendingSecrets.length > 0; round++) {
    for (const req of resolved.pendingSecrets) {
      try {
        cache.set(secretRequestKey(req), await resolver(req.secretId, req.raw ? undefined : req.key));
      } catch (e) {
        return {
          ...resolved,
          diagnostics: [
            ...resolved.diagnostics,
            error(
              `error calling aws_secretsmanager: ${e instanceof Error ? e.message : String(e)}`,
              `secret "${req.secretId}"`,
            ),
          ],
        };
      }
    }
    resolved = resolveVariables(vars, inputs, { ...base, secrets: cache }, map);
  }
  return resolved;
}
