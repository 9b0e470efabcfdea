/**
 * The shared conformance corpus (../shared/corpus, see its README): manifest types and the per-case setup
 * (copy files to a temp dir, create stub files, build the command line), shared by the Kiln conformance test,
 * the Packer 1.6.6 oracle test, the report and the benchmark.
 */
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The corpus folder (with manifest.json): `KILN_CORPUS` when set, else ../shared/corpus beside the repository. */
export const CORPUS_DIR = resolve(process.env.KILN_CORPUS ?? resolve(REPO_ROOT, '../shared/corpus'));
/** The shared folder the corpus belongs to (reference templates in its examples/). */
export const SHARED_DIR = dirname(CORPUS_DIR);

export type Expect = 'valid' | 'valid-with-vars' | 'invalid' | 'needs-credentials' | 'unsupported-plugin';

export type StubFile = string | { readonly path: string; readonly kind: 'ssh-private-key' };

export interface PackerRun {
  readonly rc: number;
  readonly first_error?: string | null;
  readonly command?: string;
  readonly agreement?: string;
}

export interface CorpusCase {
  readonly id: string;
  readonly source: string;
  readonly files: readonly string[];
  readonly format: 'json' | 'hcl';
  readonly entry: string;
  readonly cwd: string;
  readonly entry_arg: string;
  readonly args?: readonly string[];
  readonly vars?: Readonly<Record<string, string>>;
  readonly var_files?: readonly string[];
  readonly stub_files?: readonly StubFile[];
  readonly builders: readonly string[];
  readonly plugins: readonly string[];
  readonly expect: Expect;
  readonly reason?: string;
  readonly template_expect?: 'valid' | 'invalid';
  readonly template_reason?: string;
  readonly packer_1_6_6: PackerRun;
  readonly packer_1_6_6_without_vars?: PackerRun;
  readonly inspect_provisioners?: readonly string[] | null;
}

export function loadManifest(): CorpusCase[] {
  const path = join(CORPUS_DIR, 'manifest.json');
  if (!existsSync(path)) {
    throw new Error(
      `Conformance corpus not found at ${path}: it lives in ../shared/corpus next to the repository, or set KILN_CORPUS to its folder.`,
    );
  }
  return JSON.parse(readFileSync(path, 'utf8')) as CorpusCase[];
}

/** One throwaway key for every stub: Packer parses `ssh_private_key_file`, so it must be a real PEM key. */
let sshKey: string | undefined;
function throwawaySshKey(): string {
  sshKey ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  return sshKey;
}

export interface PreparedCase {
  /** Temp copy of the corpus layout. */
  readonly root: string;
  /** `<root>/<cwd>`: the directory to validate from. */
  readonly cwd: string;
}

/** Copies the case's files keeping corpus-relative paths and creates its stubs relative to `<root>/<cwd>`. */
export function prepareCase(c: CorpusCase, parent = tmpdir()): PreparedCase {
  const root = mkdtempSync(join(parent, 'kiln-corpus-'));
  for (const file of c.files) {
    const target = join(root, file);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(CORPUS_DIR, file), target);
  }
  const cwd = join(root, c.cwd);
  mkdirSync(cwd, { recursive: true });
  for (const stub of c.stub_files ?? []) {
    const path = join(cwd, typeof stub === 'string' ? stub : stub.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof stub === 'string' ? '' : throwawaySshKey(), { mode: 0o600 });
  }
  return { root, cwd };
}

/** Var-files are listed relative to the corpus root; the command passes them relative to the case's cwd. */
export function varFileArgs(c: CorpusCase): string[] {
  return (c.var_files ?? []).map((f) => relative(c.cwd, f));
}

/**
 * The validate arguments exactly as the README describes (Packer's single-dash spelling):
 * `[args] [-var k=v ...] [-var-file=<rel> ...] <entry_arg>`.
 */
export function validateArgs(c: CorpusCase, options: { withVars?: boolean } = {}): string[] {
  const withVars = options.withVars ?? true;
  const vars = withVars ? Object.entries(c.vars ?? {}).flatMap(([k, v]) => ['-var', `${k}=${v}`]) : [];
  const files = withVars ? varFileArgs(c).map((f) => `-var-file=${f}`) : [];
  return [...(c.args ?? []), ...vars, ...files, c.entry_arg];
}
