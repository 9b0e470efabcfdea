/**
 * Filesystem functions. Relative paths resolve against the template directory (Packer's basedir), except
 * `abspath` which uses the working directory;
 * reads go through LoadOptions.readFile so a Lambda can serve a bundle from memory.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { CallInfo, FunctionDef } from '../eval/context.ts';
import { evalTemplate } from '../eval/evaluate.ts';
import { fail, isObject, type Value } from '../eval/values.ts';
import { globToRegExp } from '../glob.ts';
import { parseTemplateText } from '../syntax/template-parse.ts';
import { type FunctionTable, fixed, obj, str } from './helpers.ts';

const MAX_FILESET = 100_000;

function resolvePath(p: string, call: CallInfo): string {
  return isAbsolute(p) ? p : resolve(call.ctx.environment.baseDir, p);
}

function readText(p: string, call: CallInfo, fn: string): string {
  const abs = resolvePath(p, call);
  const text = call.ctx.environment.readFile(abs);
  if (text === undefined) {
    fail(
      'Error in function call',
      `Call to function "${fn}" failed: no file exists at "${p}"; this function works only with files that are distributed as part of the configuration source code.`,
      call.argRanges[0],
    );
  }
  return text;
}

function walk(dir: string, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    if (out.length > MAX_FILESET) return;
    const full = join(dir, e);
    try {
      if (statSync(full).isDirectory()) walk(full, out);
      else out.push(full);
    } catch {
      // Broken links and races are skipped, like Go's filepath.Glob.
    }
  }
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
  fileexists: fixed(1, (a, c) => c.ctx.environment.readFile(resolvePath(str(a, 0, c), c)) !== undefined),
  fileset: fixed(2, (a, c) => {
    const base = resolvePath(str(a, 0, c), c);
    const re = globToRegExp(str(a, 1, c), { pathMode: true });
    const files: string[] = [];
    walk(base, files);
    return files
      .map((f) => relative(base, f).split('\\').join('/'))
      .filter((f) => re.test(f))
      .sort();
  }),
  templatefile: fixed(2, (a, c) => {
    const path = str(a, 0, c);
    const text = readText(path, c, 'templatefile');
    const vars = a[1] as Value;
    if (!isObject(vars)) obj(a, 1, c);
    const parsed = parseTemplateText(text, resolvePath(path, c));
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
