/**
 * Glob patterns as Packer uses them: `-only`/`-except` build names and provisioner only/except (gobwas/glob:
 * `*` matches any run including dots) and `fileset` (`*` stays within a path segment, `**` crosses them).
 */
function escapeChar(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

export function globToRegExp(pattern: string, options: { pathMode: boolean }): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') {
      if (options.pathMode && pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += options.pathMode ? '[^/]*' : '.*';
    } else if (ch === '?') re += options.pathMode ? '[^/]' : '.';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else if (ch === '{') {
      braces++;
      re += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (ch === ',' && braces > 0) re += '|';
    else if (ch === '\\' && i + 1 < pattern.length) re += escapeChar(pattern[++i] as string);
    else re += escapeChar(ch);
  }
  while (braces-- > 0) re += ')';
  return new RegExp(`^${re}$`);
}

export function globMatch(pattern: string, name: string): boolean {
  return globToRegExp(pattern, { pathMode: false }).test(name);
}
