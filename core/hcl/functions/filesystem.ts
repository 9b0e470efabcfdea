/**
 * Filesystem functions. Relative paths resolve against the template directory (Packer's basedir), except
 * `abspath` which uses the working directory;
 * reads go through the loader's FileAccess: regular files only, bounded, and confined to the template's folder in
 * the pipeline.
 */
import { basename, dirname, relative, resolve } from 'node:path';
import { type FileAccess, fileAccess } from '../../files/access.ts';
import { notRegularText } from '../../files/read.ts';
import type { CallInfo, FunctionDef } from '../eval/context.ts';
import { evalTemplate } from '../eval/evaluate.ts';
import { fail, isObject, type Value } from '../eval/values.ts';
import { globToRegExp } from '../glob.ts';
import { parseTemplateText } from '../syntax/template-parse.ts';
import { type FunctionTable, fixed, obj, str } from './helpers.ts';

const MAX_FILESET = 100_000;

/** The loader's FileAccess (confined in the pipeline); tests that only inject readFile get an unconfined one. */
function access(call: CallInfo): FileAccess {
  const env = call.ctx.environment;
  return env.files ?? fileAccess({ readFile: env.readFile });
}

function failCall(fn: string, problem: string, call: CallInfo): never {
  return fail('Error in function call', `Call to function "${fn}" failed: ${problem}.`, call.argRanges[0]);
}

/** Resolves a path argument against the template directory; a path the confinement refuses fails the call. */
function resolvePath(p: string, call: CallInfo, fn: string): string {
  const checked = access(call).resolveWritten(p, call.ctx.environment.baseDir);
  if (!checked.ok) failCall(fn, checked.problem, call);
  return checked.path;
}

function readText(p: string, call: CallInfo, fn: string): string {
  const abs = resolvePath(p, call, fn);
  const read = access(call).readText(abs, `"${p}"`);
  if (read.ok) return read.text;
  if (read.missing) {
    failCall(
      fn,
      `no file exists at "${p}"; this function works only with files that are distributed as part of the configuration source code`,
      call,
    );
  }
  return failCall(fn, read.problem, call);
}

/**
 * Inside a template, `templatefile` is a stub that fails, as in Packer (go-cty-funcs): a template including
 * itself twice would otherwise double the work per level, and Packer would refuse it anyway.
 */
const RECURSION_STUB: FunctionDef = {
  min: 2,
  impl: (_a, c) =>
    fail(
      'Error in function call',
      'Call to function "templatefile" failed: cannot recursively call templatefile from inside templatefile call.',
      c.range,
    ),
};
const stubbed = new WeakMap<ReadonlyMap<string, FunctionDef>, ReadonlyMap<string, FunctionDef>>();

function withoutTemplatefile(functions: ReadonlyMap<string, FunctionDef>): ReadonlyMap<string, FunctionDef> {
  let out = stubbed.get(functions);
  if (!out) {
    out = new Map([...functions, ['templatefile', RECURSION_STUB]]);
    stubbed.set(functions, out);
  }
  return out;
}

export const filesystemFunctions: FunctionTable = {
  abspath: fixed(1, (a, c) => resolve(c.ctx.environment.cwd, str(a, 0, c))),
  basename: fixed(1, (a, c) => basename(str(a, 0, c))),
  dirname: fixed(1, (a, c) => dirname(str(a, 0, c))),
  pathexpand: fixed(1, (a, c) => {
    const p = str(a, 0, c);
    const home = c.ctx.environment.env.HOME;
    return home && (p === '~' || p.startsWith('~/')) ? home + p.slice(1) : p;
  }),
  file: fixed(1, (a, c) => readText(str(a, 0, c), c, 'file')),
  filebase64: fixed(1, (a, c) => Buffer.from(readText(str(a, 0, c), c, 'filebase64'), 'utf8').toString('base64')),
  fileexists: fixed(1, (a, c) => {
    const p = str(a, 0, c);
    const kind = access(c).kind(resolvePath(p, c, 'fileexists'));
    if (kind === 'missing') return false;
    if (kind !== 'file') failCall('fileexists', `"${p}" ${notRegularText(kind)}`, c);
    return true;
  }),
  fileset: fixed(2, (a, c) => {
    const base = resolvePath(str(a, 0, c), c, 'fileset');
    const re = globToRegExp(str(a, 1, c), { pathMode: true });
    return access(c)
      .listFiles(base, MAX_FILESET)
      .map((f) => relative(base, f).split('\\').join('/'))
      .filter((f) => re.test(f))
      .sort();
  }),
  templatefile: fixed(2, (a, c) => {
    const path = str(a, 0, c);
    const text = readText(path, c, 'templatefile');
    const vars = a[1] as Value;
    if (!isObject(vars)) obj(a, 1, c);
    const parsed = parseTemplateText(text, resolvePath(path, c, 'templatefile'));
    const first = parsed.diagnostics[0];
    if (first)
      fail('Error in function call', `Call to function "templatefile" failed: ${path}: ${first.summary}.`, c.range);
    const scope = {
      roots: new Map(Object.entries(vars as Record<string, Value>)),
      functions: withoutTemplatefile(c.ctx.functions),
      environment: c.ctx.environment,
    };
    const v = evalTemplate(parsed.parts, scope);
    return v;
  }),
};
