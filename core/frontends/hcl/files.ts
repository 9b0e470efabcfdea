/** Which files make up an HCL2 template: one file, or a directory's `*.pkr.hcl`/`*.pkr.json` and auto var files. */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MAX_INPUT_FILE_BYTES, readRegularText } from '../../files/read.ts';

export interface TemplateFiles {
  readonly dir: string;
  readonly configFiles: readonly string[];
  readonly autoVarFiles: readonly string[];
  readonly isDirectory: boolean;
}

export function isConfigFile(name: string): boolean {
  return name.endsWith('.pkr.hcl') || name.endsWith('.pkr.json');
}

export function isAutoVarFile(name: string): boolean {
  return name.endsWith('.auto.pkrvars.hcl') || name.endsWith('.auto.pkrvars.json');
}

export function discoverFiles(absPath: string): TemplateFiles {
  let directory = false;
  try {
    directory = statSync(absPath).isDirectory();
  } catch {
    directory = false;
  }
  if (!directory) return { dir: dirname(absPath), configFiles: [absPath], autoVarFiles: [], isDirectory: false };
  let names: string[] = [];
  try {
    names = readdirSync(absPath).sort();
  } catch {
    names = [];
  }
  return {
    dir: absPath,
    configFiles: names.filter(isConfigFile).map((n) => join(absPath, n)),
    autoVarFiles: names.filter(isAutoVarFile).map((n) => join(absPath, n)),
    isDirectory: true,
  };
}

/** A regular file's text (bounded, never blocking on a FIFO or device), or undefined. */
export function defaultReadFile(path: string): string | undefined {
  const r = readRegularText(path, MAX_INPUT_FILE_BYTES);
  return r.ok ? r.text : undefined;
}
