/**
 * Runs rendered docker host scripts under real bash with a fake `docker` (and `aws`, `curl`) first on PATH. The
 * fake records each call's argv (and, for `login`, what arrived on stdin) as one JSON line, and answers like the
 * engine: `run` prints a container id, `cp` out of the container writes a marker file, `commit` an image id, `inspect` the working directory, `ps` the
 * container of the build. With FAKE_EXEC_REAL=1, `cp` into the container copies to the same path on this machine
 * and `exec` runs its command under /bin/sh here, so a value's trip through both quoting layers is checked byte
 * for byte. Tests assert the exact argv sequence.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FAKE_CID = 'c0ffee0123456789abcdef';
export const FAKE_IMAGE = 'sha256:5eed';

const FAKE_DOCKER = `#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
entry = {"argv": args}
if args[:1] == ["login"] and "--password-stdin" in args:
    entry["stdin"] = sys.stdin.read()
real = os.environ.get("FAKE_EXEC_REAL") == "1"
if args[:1] == ["cp"] and len(args) == 4 and args[3].startswith("${FAKE_CID}:") and os.path.isfile(args[2]):
    with open(args[2], "rb") as src:
        entry["content"] = src.read().decode("utf-8", "replace")
    if real:
        import shutil
        shutil.copy(args[2], args[3].split(":", 1)[1])
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(entry) + "\\n")
cmd = args[0] if args else ""
if cmd == "run":
    print(os.environ.get("FAKE_RUN_OUT", "${FAKE_CID}"))
elif cmd == "commit":
    print("${FAKE_IMAGE}")
elif cmd == "inspect":
    print(os.environ.get("FAKE_WORKDIR", ""))
elif cmd == "ps":
    print("${FAKE_CID}")
elif cmd == "cp" and args[2].startswith("${FAKE_CID}:"):
    with open(args[3], "w") as out:
        out.write("FROM-CONTAINER:" + args[2].split(":", 1)[1])
elif cmd in ("export", "save"):
    sys.stdout.write("TAR:" + args[-1])
elif cmd == "exec" and real:
    import subprocess
    sys.exit(subprocess.call(args[args.index("${FAKE_CID}") + 1:]))
elif cmd == "exec" and "PACKER_BUILDER_TYPE" in args[-1]:
    sys.exit(int(os.environ.get("FAKE_EXEC_RC", "0")))
`;

/** aws ecr get-login-password prints a token (the fake AWS CLI). */
const FAKE_AWS = `#!/bin/bash
printf '%s\\n' "$*" >> "$FAKE_AWS_LOG"
printf 'ecr-token-from-cli'
`;

/** curl: GET copies stub:<path> to -o; PUT copies --upload-file to stub:<path>. */
const FAKE_CURL = `#!/bin/bash
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

export interface Call {
  readonly argv: readonly string[];
  readonly stdin?: string;
  /** `docker cp` of a host file into the container: the file's text. */
  readonly content?: string;
}

export interface FakeHost {
  readonly root: string;
  /** State root to pass as DockerHostContext.stateRoot. */
  readonly stateRoot: string;
  run(script: string, env?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
  /** Every docker call so far, in order. */
  calls(): Call[];
  awsCalls(): string[];
  reset(): void;
  dispose(): void;
}

export function makeFakeHost(): FakeHost {
  const root = mkdtempSync(join(tmpdir(), 'kiln-docker-'));
  const bin = join(root, 'bin');
  const stateRoot = join(root, 'state');
  mkdirSync(bin);
  for (const [name, body] of [
    ['docker', FAKE_DOCKER],
    ['aws', FAKE_AWS],
    ['curl', FAKE_CURL],
  ] as const) {
    writeFileSync(join(bin, name), body);
    chmodSync(join(bin, name), 0o755);
  }
  const log = join(root, 'docker.jsonl');
  const awsLog = join(root, 'aws.log');
  let n = 0;
  return {
    root,
    stateRoot,
    run(script, env = {}) {
      const file = join(root, `step-${n++}.sh`);
      writeFileSync(file, script);
      const r = spawnSync('bash', [file], {
        cwd: root,
        env: { PATH: `${bin}:/usr/bin:/bin`, HOME: root, FAKE_LOG: log, FAKE_AWS_LOG: awsLog, ...env },
        encoding: 'utf8',
        timeout: 20_000,
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Call)
        : [],
    awsCalls: () => (existsSync(awsLog) ? readFileSync(awsLog, 'utf8').split('\n').filter(Boolean) : []),
    reset: () => rmSync(log, { force: true }),
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * shellcheck at warning level ('' when clean), as test/security does for shell provisioners. SC1112 ("unicode
 * quote") is excluded: a hostile value really contains one, inside single quotes, where it is plain data.
 */
export function shellcheck(scripts: readonly string[], dir: string): string {
  const files = scripts.map((script, i) => {
    const file = join(dir, `check-${i}.sh`);
    writeFileSync(file, script);
    return file;
  });
  const r = spawnSync('shellcheck', ['--shell=bash', '--severity=warning', '--exclude=SC1112', ...files], {
    encoding: 'utf8',
  });
  return r.status === 0 ? '' : r.stdout || r.stderr;
}
