/**
 * The docker build context never carries a file from outside the template's root: a symbolic link to a file or a
 * folder outside is not followed when the root is listed, and a name with `..` (or an absolute path, or a link
 * out) handed to the packer directly is refused before anything is read. The secret outside the root must not
 * appear in the archive's bytes whatever path is tried.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contextFilesIn } from '../../core/docker/context-files.ts';
import { packBuildContext } from '../../functions/common/prepare-build/build-context.ts';

const SECRET = 'AWS_SECRET_ACCESS_KEY=never-in-an-image';

describe('the build context stays inside the template root', () => {
  let base: string;
  let root: string;
  let outside: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'kiln-context-sec-'));
    root = join(base, 'root');
    outside = join(base, 'outside');
    mkdirSync(join(root, 'app'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.env'), SECRET);
    writeFileSync(join(root, 'template.json'), '{}');
    writeFileSync(join(root, 'app', 'main.py'), 'print(1)\n');
    writeFileSync(join(root, 'inside.txt'), 'inside\n');
    symlinkSync(join(outside, 'secret.env'), join(root, 'leak.env'));
    symlinkSync('../../outside/secret.env', join(root, 'app', 'relative-leak.env'));
    symlinkSync(outside, join(root, 'linked-dir'));
    symlinkSync(join(root, 'inside.txt'), join(root, 'alias.txt'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('listing: links out (to a file or a folder) are left out; a link to a file inside counts as that file', async () => {
    const files = contextFilesIn({ root, templatePath: join(root, 'template.json'), maxFiles: 100 });
    expect(files).toEqual(['alias.txt', 'app/main.py', 'inside.txt']);
    const tar = gunzipSync(await packBuildContext(root, files)).toString('latin1');
    expect(tar).not.toContain(SECRET);
    expect(tar).toContain('inside\n');
  });

  it.each([
    ['a .. segment', '../outside/secret.env'],
    ['a .. segment inside the path', 'app/../../outside/secret.env'],
    ['an absolute path', '@OUTSIDE@/secret.env'],
    ['a link to a file outside', 'leak.env'],
    ['a relative link climbing out', 'app/relative-leak.env'],
    ['a file under a linked folder', 'linked-dir/secret.env'],
  ])('packing: %s is refused before it is read', async (_label, name) => {
    const path = name.replace('@OUTSIDE@', outside);
    await expect(packBuildContext(root, ['inside.txt', path])).rejects.toMatchObject({
      name: 'Kiln.TemplateInvalid',
      message: expect.stringContaining('The docker build context cannot be staged'),
    });
  });

  it('a .kilnignore that is a link out is refused, not read', () => {
    symlinkSync(join(outside, 'secret.env'), join(root, '.kilnignore'));
    expect(() => contextFilesIn({ root, templatePath: join(root, 'template.json'), maxFiles: 100 })).toThrow(
      /\.kilnignore.*outside/,
    );
  });
});
