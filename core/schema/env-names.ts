/**
 * Environment variable names and how values are shown in messages: the validator (script checks, shared by
 * every component kind that runs scripts) and the renderers (core/provisioners/render) refuse the same names.
 */

/**
 * Environment variable names are placed unquoted (`K='v'`, `export K=…`, `$env:K`), so they must be plain
 * identifiers. Packer itself only requires a non-empty key before `=`; Kiln is stricter on purpose.
 */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a name cannot be an environment variable name, or undefined when it can. */
export function envNameProblem(name: string): string | undefined {
  if (ENV_NAME.test(name)) return undefined;
  return `"${printable(name)}" is not a valid environment variable name: use letters, digits and _ only, not starting with a digit`;
}

/** A value for an error message: control characters shown escaped, long values cut. */
export function printable(value: string): string {
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return shown.slice(1, -1);
}
