/**
 * Local files a provisioner needs (scripts, file-provisioner sources) become FileRefs: path relative to the
 * template directory plus sha256 and size, so PrepareBuild can stage them in S3 and the plan stays small.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { knownString } from '../builders/common/values.ts';
import type { Config } from '../template/model.ts';
import type { FileRef } from './types.ts';

/** Disk access the planner needs; injected so tests and the Lambda (bundle in memory) can answer. */
export interface FileReader {
  /** Content, or undefined when missing or a directory. */
  readonly read: (path: string) => Uint8Array | undefined;
  readonly isDirectory: (path: string) => boolean;
}

export const diskReader: FileReader = {
  read: (path) => {
    try {
      return statSync(path).isFile() ? readFileSync(path) : undefined;
    } catch {
      return undefined;
    }
  },
  isDirectory: (path) => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  },
};

/** Packer resolves relative paths against the working directory; a bundle keeps them next to the template. */
function locate(templateDir: string, written: string, reader: FileReader, cwd?: string): string {
  if (isAbsolute(written)) return written;
  const inTemplateDir = resolve(templateDir, written);
  if (cwd === undefined) return inTemplateDir;
  const inCwd = resolve(cwd, written);
  const exists = (p: string) => reader.isDirectory(p) || reader.read(p) !== undefined;
  return exists(inCwd) || !exists(inTemplateDir) ? inCwd : inTemplateDir;
}

export function fileRef(templateDir: string, written: string, reader: FileReader, cwd?: string): FileRef {
  const absolute = locate(templateDir, written, reader, cwd);
  const relativePath = relative(templateDir, absolute).split('\\').join('/');
  if (reader.isDirectory(absolute)) return { path: absolute, relativePath, directory: true };
  const content = reader.read(absolute);
  if (!content) return { path: absolute, relativePath };
  return {
    path: absolute,
    relativePath,
    sha256: createHash('sha256').update(content).digest('hex'),
    size: content.byteLength,
  };
}

/** Which configuration keys name local files, per provisioner type. */
function fileKeys(type: string, config: Config): readonly string[] {
  if (type === 'file') return (knownString(config.direction) ?? 'upload') === 'upload' ? ['source', 'sources'] : [];
  if (type.startsWith('ansible')) return ['playbook_file'];
  return ['script', 'scripts'];
}

/** The configuration with file paths replaced by their template-relative paths, and the FileRefs. */
export function planFiles(
  type: string,
  config: Config,
  templateDir: string,
  reader: FileReader,
  cwd?: string,
): { config: Config; files: FileRef[] } {
  const files: FileRef[] = [];
  const out: Config = { ...config };
  const ref = (value: unknown): unknown => {
    const written = knownString(value);
    if (written === undefined || written === '' || typeof value !== 'string') return value;
    const f = fileRef(templateDir, written, reader, cwd);
    files.push(f);
    return f.relativePath.startsWith('..') ? value : f.relativePath;
  };
  for (const key of fileKeys(type, config)) {
    const value = config[key];
    if (value === undefined) continue;
    out[key] = Array.isArray(value) ? value.map(ref) : ref(value);
  }
  return { config: out, files };
}
