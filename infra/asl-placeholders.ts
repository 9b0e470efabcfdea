/**
 * Pure helpers for `${Placeholder}` substitution in ASL files. CloudFormation's DefinitionSubstitutions replaces
 * `${Name}` tokens; Step Functions' own `$$.Execution.Id`-style paths never use braces, so any `${Word}` in an
 * ASL file is a substitution the deployment must fill.
 */

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** Every distinct placeholder name in an ASL document, sorted. */
export function placeholdersIn(definition: string): string[] {
  const names = new Set<string>();
  for (const match of definition.matchAll(PLACEHOLDER)) {
    const name = match[1];
    if (name !== undefined) names.add(name);
  }
  return [...names].sort();
}

export interface SubstitutionMismatch {
  /** Placeholders in the file with no substitution: the deployed definition would keep a literal `${X}`. */
  readonly missing: readonly string[];
  /** Substitutions the file never uses: almost always a renamed state or a typo in the registry. */
  readonly unused: readonly string[];
}

/** Compares the placeholders of a definition with the substitution names offered for it. */
export function compareSubstitutions(definition: string, substitutionNames: Iterable<string>): SubstitutionMismatch {
  const used = new Set(placeholdersIn(definition));
  const offered = new Set(substitutionNames);
  return {
    missing: [...used].filter((name) => !offered.has(name)).sort(),
    unused: [...offered].filter((name) => !used.has(name)).sort(),
  };
}
