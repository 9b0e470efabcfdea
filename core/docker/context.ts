/**
 * The build context of a docker build: the files of the template's folder (a bundle's root, or the folder an
 * upload came from), copied into the container's working directory before the first provisioner, so that a
 * template written next to its app (`pip install -r requirements.txt`) finds its files as it does with
 * `packer build` run from that folder. Packer has no such step; it is what an image factory must add, because
 * Kiln's builder host never sees the uploader's working directory.
 *
 * What is left out: the template itself (`*.pkr.hcl`, `*.pkr.json`, the legacy `.json` template), variable files
 * (`*.pkrvars.hcl`, `*.pkrvars.json`: they may hold values that must not end up in an image), `.kilnignore`
 * and every path it lists. `.kilnignore` takes one pattern a line (`#` comments, blank lines ignored): a path
 * relative to the folder, `*` matching within one path component and `**` any number of components; a
 * pattern naming a folder leaves out everything under it. A `.kilnignore` holding `*` (or `**`) turns the build
 * context off.
 */

export const KILNIGNORE = '.kilnignore';

/**
 * Where PrepareBuild stages the build context (one tar.gz), relative to the build's staged files prefix; the
 * plan records the full key. `kiln plan --scripts` names its placeholder URL after it.
 */
export const BUILD_CONTEXT_PATH = '.kiln/build-context.tar.gz';

const TEMPLATE_FILE = /(?:\.pkr\.hcl|\.pkr\.json|\.pkrvars\.hcl|\.pkrvars\.json)$/i;

function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more whole components; a trailing `**` everything below.
      if (pattern[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, (m) => `\\${m}`);
  }
  // A pattern matches the path itself or anything below it (a folder's contents).
  return new RegExp(`^${out}(?:/.*)?$`);
}

/** `.kilnignore` text → patterns (normalized: no leading `./` or `/`, no trailing `/`). */
export function parseKilnignore(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.replace(/^\.?\/+/, '').replace(/\/+$/, ''))
    .filter((line) => line !== '');
}

export interface ContextInput {
  /** Every file of the template's folder, relative, `/`-separated (as PrepareBuild staged them). */
  readonly files: readonly string[];
  /** The template file's path relative to the folder, when the template is one file. */
  readonly templateFile?: string;
  /** Contents of `.kilnignore` in the folder's root, when there is one. */
  readonly kilnignore?: string;
}

/** The files that form the build context, in the order given; empty when the context is off. */
export function buildContextFiles(input: ContextInput): string[] {
  const patterns = input.kilnignore === undefined ? [] : parseKilnignore(input.kilnignore);
  if (patterns.some((p) => /^\*\*?$/.test(p))) return [];
  const ignore = patterns.map(globToRegExp);
  return input.files.filter(
    (file) =>
      file !== KILNIGNORE &&
      file !== input.templateFile &&
      !TEMPLATE_FILE.test(file) &&
      !ignore.some((re) => re.test(file)),
  );
}
