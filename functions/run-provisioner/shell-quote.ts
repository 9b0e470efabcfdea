/**
 * Quoting helpers for generated POSIX shell and PowerShell. Everything user-controlled goes through these, so
 * generated scripts stay correct for any value (and pass shellcheck).
 */

/** POSIX single-quoted word: `it's` → `'it'"'"'s'`. */
export function sq(value: string): string {
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** PowerShell single-quoted string: quotes double. */
export function psq(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A heredoc delimiter that does not occur in the body (bodies are user scripts). */
export function heredocDelimiter(body: string, base = 'KILN_EOF'): string {
  let delimiter = base;
  for (let i = 1; body.split('\n').some((line) => line.trim() === delimiter); i++) delimiter = `${base}_${i}`;
  return delimiter;
}

/** `K=V` strings (Packer `environment_vars`) → ordered pairs; values may contain `=`. */
export function parseEnvVars(list: readonly string[]): [string, string][] {
  return list.map((entry) => {
    const eq = entry.indexOf('=');
    return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
  });
}

/**
 * Packer's `{{.Vars}}`: `env_var_format` (default `%s='%s' `) per variable, keys sorted, single quotes in
 * values escaped the way Packer does, so existing `execute_command`s keep working.
 */
export function flattenEnvVars(vars: readonly [string, string][], format = "%s='%s' "): string {
  // Byte order, as Go's sort.Strings (localeCompare would put PACKER_BUILD_NAME before PACKER_BUILDER_TYPE).
  const sorted = [...vars].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted
    .map(([k, v]) => {
      const value = v.replace(/'/g, `'"'"'`);
      let i = 0;
      return format.replace(/%s/g, () => (i++ === 0 ? k : value));
    })
    .join('');
}
