/** Build-name patterns for `-only` / `-except`: `*` matches any run of characters, as Packer's globs do. */

export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

export function matchesAny(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => p === name || globToRegExp(p).test(name));
}
