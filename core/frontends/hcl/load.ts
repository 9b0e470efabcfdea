/**
 * The HCL2 front end's pipeline: parse every file, check top-level blocks, resolve variables (precedence),
 * locals (lazy, cycle-checked) and data sources, then evaluate builds. Every problem becomes a diagnostic.
 */
import { dirname, relative, resolve } from 'node:path';
import { fileAccess } from '../../files/access.ts';
import type { Environment, EvalContext, LazyRoot } from '../../hcl/eval/context.ts';
import { didYouMean } from '../../hcl/eval/suggest.ts';
import { fail, type Value } from '../../hcl/eval/values.ts';
import { hclFunctions } from '../../hcl/functions/index.ts';
import type { Block } from '../../hcl/syntax/ast.ts';
import { parseFile } from '../../hcl/syntax/parse-file.ts';
import { recordingEnv } from '../../template/credential-env.ts';
import { type Diagnostic, error, hasErrors } from '../../template/diagnostics.ts';
import { currentLimits, limitDiagnostic } from '../../template/limits.ts';
import { type LoadOptions, type LoadResult, PACKER_COMPAT_VERSION, type Template } from '../../template/model.ts';
import { evalBuilds, type SourceDecl } from './blocks/builds.ts';
import { DataRoot, resolveDataSources } from './blocks/data-sources.ts';
import { declareLocals, LocalsRoot } from './blocks/locals.ts';
import { evalPackerBlocks } from './blocks/packer-block.ts';
import {
  declareVariables,
  resolveVariables,
  type VariableInput,
  validateVariables,
  varFileInputs,
} from './blocks/variables.ts';
import { discoverFiles } from './files.ts';

const TOP_LEVEL_BLOCKS = new Set(['packer', 'variable', 'variables', 'locals', 'local', 'source', 'data', 'build']);

function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = JSON.stringify([d.severity, d.summary, d.detail, d.range]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function varRoot(values: Record<string, Value>, declared: ReadonlySet<string>): LazyRoot {
  return {
    lazy: true,
    get(name, range) {
      if (!declared.has(name)) {
        return fail(
          'Reference to undeclared input variable',
          `An input variable with the name "${name}" has not been declared.${didYouMean(name, declared)} This variable can be declared with a variable "${name}" {} block.`,
          range,
        );
      }
      // Unset required variables were reported already; null keeps evaluation going.
      return values[name] ?? null;
    },
    whole: () => values,
  };
}

export async function loadHcl(path: string, opts: LoadOptions): Promise<LoadResult> {
  const cwd = opts.cwd ?? process.cwd();
  const absPath = resolve(cwd, path);
  const files = fileAccess({
    ...(opts.confinement ? { confinement: opts.confinement } : {}),
    ...(opts.readFile ? { readFile: opts.readFile } : {}),
  });
  const readFile = (p: string): string | undefined => {
    const r = files.readText(p);
    return r.ok ? r.text : undefined;
  };
  const sources = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const display = (f: string) => relative(cwd, f) || f;
  const found = discoverFiles(absPath);
  if (found.configFiles.length === 0) {
    diagnostics.push(error('Could not find any config file', `No *.pkr.hcl or *.pkr.json file in ${path}.`));
    return { diagnostics, sources };
  }
  const blocks: Block[] = [];
  // Only syntax errors (and unreadable files) stop here; structural problems are reported with everything else.
  let syntaxFailed = false;
  for (const file of found.configFiles) {
    const name = display(file);
    // One size rule for every front end: the budget's maxFileBytes, checked before the read (bounded read).
    const maxBytes = currentLimits().maxFileBytes;
    const read = files.readText(file, name, maxBytes);
    if (!read.ok) {
      diagnostics.push(
        read.tooLarge
          ? limitDiagnostic('maxFileBytes', maxBytes, `${name} is larger`)
          : error('Failed to read file', `Could not read ${name}: ${read.problem}.`),
      );
      syntaxFailed = true;
      continue;
    }
    const text = read.text;
    sources.set(name, text);
    const parsed = await parseFile(name, text);
    diagnostics.push(...parsed.diagnostics);
    if (hasErrors(parsed.diagnostics)) syntaxFailed = true;
    if (!parsed.body) continue;
    for (const a of parsed.body.attributes) {
      diagnostics.push(
        error('Unsupported argument', `An argument named "${a.name}" is not expected here.`, a.nameRange),
      );
    }
    for (const b of parsed.body.blocks) {
      if (TOP_LEVEL_BLOCKS.has(b.type)) blocks.push(b);
      else
        diagnostics.push(
          error(
            'Unsupported block type',
            `Blocks of type "${b.type}" are not expected here.${didYouMean(b.type, TOP_LEVEL_BLOCKS)}`,
            b.typeRange,
          ),
        );
    }
  }
  if (syntaxFailed) return { diagnostics: dedupe(diagnostics), sources };
  if (opts.syntaxOnly) {
    // `validate -syntax-only`: the files parse; nothing is evaluated.
    const skeleton: Template = {
      format: 'hcl',
      path,
      dir: found.dir,
      files: found.configFiles,
      requiredPlugins: [],
      variables: [],
      sensitiveValues: [],
      builds: [],
    };
    return { template: skeleton, diagnostics: dedupe(diagnostics), sources };
  }
  const packerVersion = opts.packerVersion ?? PACKER_COMPAT_VERSION;
  const envSecrets: string[] = [];
  const fixedNow = opts.now;
  const environment: Environment = {
    cwd,
    baseDir: found.dir,
    readFile,
    files,
    now: () => fixedNow ?? new Date(),
    // Credential-like variables read through env() become sensitive values.
    env: recordingEnv(opts.env ?? {}, envSecrets),
  };
  // path.root is the template argument as given (a directory keeps its trailing slash), or its directory.
  const pathRoot = found.isDirectory ? path : dirname(path);
  const baseRoots = new Map<string, Value | LazyRoot>([
    ['path', { root: pathRoot, cwd }],
    // versionFingerprint is Packer's git commit; Kiln has none, so it reports its compatibility version.
    ['packer', { version: packerVersion, versionFingerprint: packerVersion }],
  ]);
  const baseCtx: EvalContext = { roots: baseRoots, functions: hclFunctions(), environment };
  const ofType = (...types: string[]) => blocks.filter((b) => types.includes(b.type));

  // Variables, by precedence.
  const decls = declareVariables(ofType('variable', 'variables'), baseCtx, diagnostics);
  const inputs: VariableInput[] = [];
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (k.startsWith('PKR_VAR_') && v !== undefined && decls.has(k.slice(8)))
      inputs.push({ name: k.slice(8), raw: v, source: 'env' });
  }
  const varFiles = [...found.autoVarFiles, ...(opts.varFiles ?? []).map((f) => resolve(cwd, f))];
  for (const f of varFiles) {
    const name = display(f);
    const read = files.readText(f, name);
    if (!read.ok) {
      diagnostics.push(error('Failed to read variable file', `Could not read ${name}: ${read.problem}.`));
      continue;
    }
    const text = read.text;
    sources.set(name, text);
    const parsed = await parseFile(name, text, 'varfile');
    diagnostics.push(...parsed.diagnostics);
    if (parsed.body) inputs.push(...varFileInputs(parsed.body, `var-file:${name}`, diagnostics));
  }
  for (const [name, raw] of opts.vars ?? []) inputs.push({ name, raw, source: 'var' });
  const resolved = resolveVariables(decls, inputs, baseCtx, diagnostics);
  validateVariables(decls, resolved.values, baseCtx, diagnostics);
  const sensitiveValues = [...resolved.sensitiveValues, ...envSecrets];

  // Locals and data sources see each other and the variables.
  const localDecls = declareLocals(ofType('locals', 'local'), diagnostics);
  const locals = new LocalsRoot(localDecls, diagnostics);
  const dataBlocks = ofType('data');
  const data = new DataRoot(dataBlocks, diagnostics);
  const ctx: EvalContext = {
    roots: new Map([
      ...baseRoots,
      ['var', varRoot(resolved.values, new Set(decls.keys()))],
      ['local', locals],
      ['data', data],
    ]),
    functions: baseCtx.functions,
    environment,
  };
  locals.ctx = ctx;
  await resolveDataSources(dataBlocks, data, ctx, opts.resolvers, diagnostics, sensitiveValues);
  const localValues = locals.evaluateAll();
  for (const [name, d] of localDecls) {
    const v = localValues[name];
    if (d.sensitive && typeof v === 'string') sensitiveValues.push(v);
  }

  const packer = evalPackerBlocks(ofType('packer'), packerVersion, ctx, diagnostics);

  const sourceDecls = new Map<string, SourceDecl>();
  for (const b of ofType('source')) {
    const [type, name] = b.labels;
    if (type === undefined || name === undefined || b.labels.length !== 2) {
      diagnostics.push(
        error('Missing source labels', 'A source block needs two labels: the builder type and the name.', b.range),
      );
      continue;
    }
    const key = `${type}.${name}`;
    const prev = sourceDecls.get(key);
    if (prev) {
      const at = prev.block.range;
      diagnostics.push(
        error(
          'Duplicate source block',
          `This source block has the same builder type and name as a previous block declared at ${at.file}:${at.start.line},${at.start.column}. Each source must have a unique name per builder type.`,
          b.labelRanges[1] ?? b.range,
        ),
      );
      continue;
    }
    sourceDecls.set(key, { type, name, block: b });
  }

  const builds = evalBuilds(
    ofType('build'),
    sourceDecls,
    ctx,
    { ...(opts.only ? { only: opts.only } : {}), ...(opts.except ? { except: opts.except } : {}) },
    diagnostics,
  );
  const description = ofType('build')
    .map((b) => b.body.attributes.find((a) => a.name === 'description'))
    .find((a) => a?.expr.kind === 'literal' || a?.expr.kind === 'template');
  const descValue = description?.expr.kind === 'literal' ? description.expr.value : undefined;
  const template: Template = {
    format: 'hcl',
    path,
    dir: found.dir,
    files: [...found.configFiles, ...varFiles],
    ...(typeof descValue === 'string' ? { description: descValue } : {}),
    ...(packer.requiredVersion !== undefined ? { requiredVersion: packer.requiredVersion } : {}),
    requiredPlugins: packer.requiredPlugins,
    variables: resolved.infos,
    sensitiveValues: [...new Set(sensitiveValues)],
    builds,
  };
  const all = dedupe(diagnostics);
  return { template, diagnostics: all, sources };
}
