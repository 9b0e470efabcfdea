/**
 * The build context of a template folder on disk: the regular files under the template's root, selected by
 * context.ts's rule, relative and in byte order. The root is walked confined to itself: a link to a file inside
 * counts as that file, a link that leaves the root and a link to a folder are not followed, and devices, FIFOs
 * and sockets are never files. PrepareBuild (which stages them) and `kiln plan --scripts` (which lists them)
 * both ask here, so they agree.
 */
import { join, relative, sep } from 'node:path';
import { TemplateInvalidError } from '../errors.ts';
import { fileAccess } from '../files/access.ts';
import { buildContextFiles, KILNIGNORE } from './context.ts';

/** Files a build context may hold: as many as a bundle may (functions/common/prepare-build/archive.ts). */
export const MAX_CONTEXT_FILES = 2_000;

export interface ContextFolder {
  /** The template's root (a bundle's root, the upload's folder, the folder of a local template). */
  readonly root: string;
  /** The template: a file inside the root (left out), or the root itself (a folder of .pkr.hcl files). */
  readonly templatePath: string;
  /**
   * Relative paths (a file, or a folder and everything under it) that are not the template's own files: what
   * the caller put there itself (PrepareBuild's fetched variable files) or variable files given by name.
   */
  readonly leaveOut?: readonly string[];
  /** More files than this in the folder is refused (before `.kilnignore` applies). */
  readonly maxFiles: number;
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The build context's files, relative with `/`, sorted; empty when the rule leaves none (or turns it off). */
export function contextFilesIn(folder: ContextFolder): string[] {
  const files = fileAccess({ confinement: { root: folder.root } });
  const listed = files.listFiles(folder.root, folder.maxFiles);
  if (listed.length > folder.maxFiles) {
    throw new TemplateInvalidError(
      `The template's folder holds more than ${folder.maxFiles} files, too many for a docker build context; ` +
        `put the template and its app in a folder of their own, or list what to leave out in ${KILNIGNORE}`,
    );
  }
  const leaveOut = folder.leaveOut ?? [];
  const relativePaths = listed
    .map((p) => relative(folder.root, p).split(sep).join('/'))
    .filter((r) => !leaveOut.some((x) => r === x || r.startsWith(`${x}/`)));
  const ignore = files.readText(join(folder.root, KILNIGNORE), `"${KILNIGNORE}"`);
  if (!ignore.ok && !ignore.missing) throw new TemplateInvalidError(`The file ${ignore.problem}`);
  const templateFile = relative(folder.root, folder.templatePath).split(sep).join('/');
  return buildContextFiles({
    files: relativePaths,
    ...(templateFile !== '' ? { templateFile } : {}),
    ...(ignore.ok ? { kilnignore: ignore.text } : {}),
  }).sort(byteOrder);
}
