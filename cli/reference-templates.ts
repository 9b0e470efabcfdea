/** The two reference templates every Kiln release must run unchanged (see examples/ and ../shared/examples). */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REFERENCE_TEMPLATES = ['docker-python-app.json', 'vmware-ubuntu-apache.json'] as const;

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The repository's own copy wins; the shared folder next to the repository is the fallback. */
export function referenceTemplatePath(name: string, root = REPO_ROOT): string | undefined {
  return [join(root, 'examples', name), join(root, '..', 'shared', 'examples', name)].find((p) => existsSync(p));
}
