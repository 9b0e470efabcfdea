/**
 * A throwaway place to run a rendered script under real bash: a temp dir as cwd and HOME, an environment with
 * only PATH, HOME and MARK, and a stub `curl` that copies local files instead of fetching (`stub:/abs/path`
 * URLs). A payload "wins" if the marker file appears.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CURL_STUB = `#!/bin/bash
# Test stub: GET copies stub:<path> to -o; PUT (--upload-file F) copies F to stub:<path>.
out=''; up=''; url=''
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    --upload-file) up="$2"; shift 2 ;;
    -X|--retry) shift 2 ;;
    -*) shift ;;
    *) url="$1"; shift ;;
  esac
done
src="\${url#stub:}"
if [ -n "$up" ]; then cp -- "$up" "$src"; else cp -- "$src" "$out"; fi
`;

export interface Sandbox {
  readonly root: string;
  readonly home: string;
  readonly marker: string;
  /** The payload with its `@M@` placeholder replaced by this sandbox's marker path. */
  arm(payload: string): string;
  run(script: string, interpreter?: string): { status: number | null; stdout: string; stderr: string };
  /** What the script under test wrote to $HOME/out (undefined when it wrote nothing). */
  out(): string | undefined;
  pwned(): boolean;
  dispose(): void;
}

export function makeSandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'kiln-sec-'));
  const home = join(root, 'home');
  const bin = join(root, 'bin');
  mkdirSync(home);
  mkdirSync(bin);
  writeFileSync(join(bin, 'curl'), CURL_STUB);
  chmodSync(join(bin, 'curl'), 0o755);
  const marker = join(root, 'PWNED');
  return {
    root,
    home,
    marker,
    arm: (payload) => payload.replace(/@M@/g, () => marker),
    run(script, interpreter = 'bash') {
      const file = join(root, 'rendered.sh');
      writeFileSync(file, script);
      const r = spawnSync(interpreter, [file], {
        cwd: home,
        env: { PATH: `${bin}:/usr/bin:/bin`, HOME: home, MARK: marker },
        encoding: 'utf8',
        timeout: 10_000,
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    out: () => (existsSync(join(home, 'out')) ? readFileSync(join(home, 'out'), 'utf8') : undefined),
    pwned: () => existsSync(marker),
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * shellcheck findings at warning level and above ('' when clean). SC2289 ("command name containing a
 * linefeed/tab") is excluded: a hostile remote path really does contain one, correctly quoted.
 */
export function shellcheck(scripts: readonly string[], dir: string): string {
  const files = scripts.map((script, n) => {
    const file = join(dir, `check-${n}.sh`);
    writeFileSync(file, script);
    return file;
  });
  const r = spawnSync('shellcheck', ['--shell=bash', '--severity=warning', '--exclude=SC2289', ...files], {
    encoding: 'utf8',
  });
  return r.status === 0 ? '' : r.stdout || r.stderr;
}
