/** Which files make up an HCL2 template: one file, or a directory's `*.pkr.hcl`/`*.pkr.json` and auto var files. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

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

export function defaultReadFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
