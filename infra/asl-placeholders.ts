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

/** A file's name (as the parent names it) and text: the sources of a composed definition. */
export interface PlaceholderSource {
  readonly name: string;
  readonly text: string;
}

/** The mismatch in one sentence, naming the file(s) each missing placeholder is in; '' when both sides agree. */
export function describeMismatch(mismatch: SubstitutionMismatch, files: readonly PlaceholderSource[]): string {
  const [parent] = files;
  const where = (placeholder: string) => {
    const names = files.filter((file) => placeholdersIn(file.text).includes(placeholder)).map((file) => file.name);
    return `\${${placeholder}} (in ${names.join(', ')})`;
  };
  const scope = files.length > 1 ? `${parent?.name} or the files it includes` : (parent?.name ?? 'the definition');
  return [
    mismatch.missing.length > 0 ? `no substitution for ${mismatch.missing.map(where).join(', ')}` : '',
    mismatch.unused.length > 0 ? `substitutions not used by ${scope}: ${mismatch.unused.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}
