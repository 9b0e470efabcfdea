/**
 * Packer spells long flags with one dash (`-var`, `-syntax-only`, `-var-file=x`); commander needs two.
 * Rewriting argv up front lets `kiln` accept both spellings, so Packer command lines work unchanged.
 */

/** Long options that take a value as the next argument (when not written `-opt=value`). */
const VALUE_OPTIONS = new Set(['var', 'var-file', 'only', 'except', 'limit']);

/** Single-dash tokens that are real short options and must stay as they are. */
const SHORT_OPTIONS = new Set(['-h', '-V']);

export function normalizeArgv(argv: readonly string[]): string[] {
  const result: string[] = [];
  let expectValue = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') {
      // Everything after `--` is positional, exactly as given.
      result.push(...argv.slice(i));
      break;
    }
    if (expectValue) {
      // A value such as `-var x=-1` or `-only -weird` is never an option.
      result.push(token);
      expectValue = false;
      continue;
    }
    const single = /^-([a-zA-Z][\w-]+)(=.*)?$/s.exec(token);
    if (single && !SHORT_OPTIONS.has(token)) {
      const name = single[1] as string;
      result.push(`--${name}${single[2] ?? ''}`);
      expectValue = VALUE_OPTIONS.has(name) && single[2] === undefined;
      continue;
    }
    const double = /^--([\w-]+)(=.*)?$/s.exec(token);
    expectValue = double !== null && VALUE_OPTIONS.has(double[1] as string) && double[2] === undefined;
    result.push(token);
  }
  return result;
}

/** `-var name=value`: splits on the first `=` only, so values may contain `=` (base64, URLs). */
export function parseVarAssignment(raw: string): readonly [string, string] | undefined {
  const eq = raw.indexOf('=');
  if (eq <= 0) return undefined;
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

/** `-only a,b -only c` → `[a, b, c]`: Packer takes a comma list; repeating the flag adds to it. */
export function splitNameList(values: readonly string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}
