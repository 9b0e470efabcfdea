/**
 * Quoting for generated POSIX shell and PowerShell. Template values (variables, paths, names) are untrusted:
 * every one that reaches a generated script goes through this module, which either quotes it so that the
 * shell reads back exactly the same bytes, or refuses it. Nothing here uses a string as a `replace`
 * replacement pattern (`$&`, `` $` ``, `$'` would re-open the quoting): every substitution is a function.
 */
import { ProvisionerFailedError } from '../../errors.ts';
import { envNameProblem, printable } from '../../schema/env-names.ts';

/** Characters that mean the same thing bare, in single and in double quotes (no expansion, no splitting). */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** PowerShell single-quote characters (language spec §2.3.5.2): ASCII ' and U+2018, U+2019, U+201A, U+201B. */
export const PS_SINGLE_QUOTES = "'\u2018\u2019\u201A\u201B";
const PS_QUOTE_RE = /['\u2018\u2019\u201A\u201B]/g;

export function assertEnvName(name: string): string {
  const problem = envNameProblem(name);
  if (problem) throw new ProvisionerFailedError(problem);
  return name;
}

/** bash strings cannot carry NUL: it would silently cut the value. */
export function assertNoNul(value: string, what: string): string {
  if (value.includes('\0')) {
    throw new ProvisionerFailedError(`${what} contains a NUL byte, which a shell cannot carry; remove it`);
  }
  return value;
}

/** POSIX single-quoted word: `it's` → `'it'"'"'s'`. Any value except NUL round-trips exactly. */
export function shq(value: string): string {
  assertNoNul(value, 'A value');
  return `'${value.replace(/'/g, () => `'"'"'`)}'`;
}

/** The body of a POSIX single-quoted string (the caller supplies the surrounding quotes). */
function singleBody(value: string): string {
  return value.replace(/'/g, () => `'"'"'`);
}

/** The body of a POSIX double-quoted string: `\`, `$`, backtick and `"` escaped, everything else literal. */
function doubleBody(value: string): string {
  return value.replace(/[\\$`"]/g, (c) => `\\${c}`);
}

/** PowerShell single-quoted string: every single-quote character doubled, so each stands for itself. */
export function psq(value: string): string {
  assertNoNul(value, 'A value');
  return `'${value.replace(PS_QUOTE_RE, (q) => q + q)}'`;
}

/** A heredoc delimiter that no body line could be read as (bodies are user scripts). */
export function heredocDelimiter(body: string, base = 'KILN_EOF'): string {
  const lines = new Set(body.split(/\r?\n|\r/).map((line) => line.trim()));
  let delimiter = base;
  for (let i = 1; lines.has(delimiter); i++) delimiter = `${base}_${i}`;
  return delimiter;
}

/**
 * `K=V` strings (Packer `environment_vars`) → ordered pairs; values may contain `=`. Names are checked here
 * too, so every consumer (remote shell, PowerShell, shell-local) refuses what the validator reports.
 */
export function parseEnvVars(list: readonly string[]): [string, string][] {
  return list.map((entry) => {
    const eq = entry.indexOf('=');
    const pair: [string, string] = eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
    assertEnvName(pair[0]);
    assertNoNul(pair[1], `The environment variable ${pair[0]}`);
    return pair;
  });
}

/** Where a token sits in shell text, as far as quoting goes. */
export type ShellContext = 'bare' | 'single' | 'double' | 'other';

type State = 'bare' | 'subst' | 'single' | 'double' | 'ansi' | 'backtick' | 'comment';

/**
 * Walks shell text, tracking quoting, and calls `replace` for each match of `token` with the context it sits
 * in. Contexts Kiln does not model precisely (`$'…'`, backticks, comments) are reported as 'other', where
 * only plain values are accepted. Returns the new text and whether the text ends with every quote closed.
 */
export function substituteShell(
  text: string,
  token: RegExp,
  replace: (match: RegExpExecArray, context: ShellContext) => string,
): { text: string; balanced: boolean } {
  const sticky = new RegExp(token.source, `${token.flags.replace(/[gy]/g, '')}y`);
  const stack: State[] = ['bare'];
  const top = (): State => stack[stack.length - 1] as State;
  let out = '';
  let i = 0;
  let wordStart = true;
  while (i < text.length) {
    sticky.lastIndex = i;
    const m = sticky.exec(text);
    if (m && m[0].length > 0) {
      const s = top();
      const context: ShellContext =
        s === 'bare' || s === 'subst' ? 'bare' : s === 'single' ? 'single' : s === 'double' ? 'double' : 'other';
      out += replace(m, context);
      i += m[0].length;
      wordStart = false;
      continue;
    }
    const c = text[i] as string;
    const next = text[i + 1];
    const s = top();
    let take = 1;
    if (s === 'bare' || s === 'subst') {
      if (c === '\\') take = 2;
      else if (c === "'") stack.push('single');
      else if (c === '"') stack.push('double');
      else if (c === '`') stack.push('backtick');
      else if (c === '$' && next === "'") {
        stack.push('ansi');
        take = 2;
      } else if (c === '$' && next === '(') {
        stack.push('subst');
        take = 2;
      } else if (c === ')' && s === 'subst') stack.pop();
      else if (c === '#' && wordStart) stack.push('comment');
    } else if (s === 'double') {
      if (c === '\\') take = 2;
      else if (c === '"') stack.pop();
      else if (c === '`') stack.push('backtick');
      else if (c === '$' && next === '(') {
        stack.push('subst');
        take = 2;
      }
    } else if (s === 'single') {
      if (c === "'") stack.pop();
    } else if (s === 'ansi' || s === 'backtick') {
      if (c === '\\') take = 2;
      else if ((s === 'ansi' && c === "'") || (s === 'backtick' && c === '`')) stack.pop();
    } else if (s === 'comment' && c === '\n') stack.pop();
    out += text.slice(i, i + take);
    wordStart = /[\s;&|()<>]/.test(c);
    i += take;
  }
  const balanced = stack.length === 1 || (stack.length === 2 && top() === 'comment');
  return { text: out, balanced };
}

function isPlain(value: string): boolean {
  return PLAIN.test(value);
}

/**
 * A value as one literal word at a token's position. Bare: single-quoted. Inside the author's own quotes
 * only plain values are accepted: a quoted `{{.Path}}` may be read by a nested shell (`sh -c '… {{.Path}}'`),
 * where no single quoting is right for both readings.
 */
export function wordAt(value: string, context: ShellContext, what: string): string {
  assertNoNul(value, what);
  if (isPlain(value)) return value;
  if (context === 'bare') return shq(value);
  throw new ProvisionerFailedError(
    `${what} "${printable(value)}" cannot be placed inside quotes in execute_command safely: remove the quotes ` +
      'around it (Kiln quotes the value itself) or use a path of letters, digits and _@%+=:,./- only',
  );
}

/**
 * Shell code (already quoted for a shell, like `{{.Vars}}`) at a token's position: bare as is; inside the
 * author's single or double quotes escaped for them, so that a nested `sh -c '…'` reads exactly that code.
 */
export function codeAt(code: string, context: ShellContext, what: string): string {
  if (code === '' || context === 'bare') return code;
  if (context === 'single') return singleBody(code);
  if (context === 'double') return doubleBody(code);
  throw new ProvisionerFailedError(
    `${what} cannot be placed inside backticks, $'…' or a comment in execute_command; use $( ) or move it out`,
  );
}

/**
 * A value at a `%s` of `env_var_format`: inside the format's single quotes escaped the way Packer does, inside
 * double quotes backslash-escaped, bare single-quoted; anything else only when plain.
 */
function valueAt(value: string, context: ShellContext, name: string): string {
  assertNoNul(value, `The environment variable ${name}`);
  if (context === 'single') return singleBody(value);
  if (context === 'double') return doubleBody(value);
  if (context === 'bare') return isPlain(value) ? value : shq(value);
  if (isPlain(value)) return value;
  throw new ProvisionerFailedError(
    `env_var_format places the value of ${name} inside backticks, $'…' or a comment; Kiln cannot quote it there`,
  );
}

export const PACKER_ENV_VAR_FORMAT = "%s='%s' ";

/**
 * Packer's `{{.Vars}}`: `env_var_format` (default `%s='%s' `) per variable, keys sorted. The format is the
 * author's shell code; the values are quoted for wherever the format puts them, so they stay data.
 */
export function flattenEnvVars(vars: readonly [string, string][], format = PACKER_ENV_VAR_FORMAT): string {
  // Byte order, as Go's sort.Strings (localeCompare would put PACKER_BUILD_NAME before PACKER_BUILDER_TYPE).
  const sorted = [...vars].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted
    .map(([k, v]) => {
      assertEnvName(k);
      let n = 0;
      const { text, balanced } = substituteShell(format, /%[s%]/, (m, context) => {
        if (m[0] === '%%') return '%';
        n++;
        if (n === 1) return k;
        return n === 2 ? valueAt(v, context, k) : '%!s(MISSING)';
      });
      if (!balanced) {
        throw new ProvisionerFailedError(
          `env_var_format "${printable(format)}" leaves a quote open; close every quote it opens`,
        );
      }
      return text;
    })
    .join('');
}
