/**
 * The `docker` command of a local docker builder host: a bash wrapper calling podman with the runtime settings
 * measured on this kind of machine (HARNESS.md "Containers without Docker"), given to podman through
 * CONTAINERS_CONF / CONTAINERS_REGISTRIES_CONF files of its own (no system file touched). Paths are baked into the
 * wrapper, so the SSM stand-in's environment stays the agent's (only PATH gains the wrapper's folder).
 *
 * What the wrapper changes, and why (podman 4.3.1 is otherwise docker-compatible for every verb core/docker/host.ts
 * uses: run, exec, cp, inspect, commit, tag, push, pull, login, logout, rm, ps, import, save, export):
 * - ECR hosts (`<account>.dkr.ecr.<region>.amazonaws.com`) live at the local ECR front, namespace
 *   `ecr/<account>/<region>/` (ecr-front.ts). Pulls (and `run`'s implicit pull, by tag or digest) reach it through
 *   registries.conf `location` entries, one per region of the local account, with the credentials `login` stored
 *   for the front's namespace (measured). That rewriting does not apply to `podman push` (measured: it still dialled
 *   the ECR host), and `podman login` pings the host it is given, so the wrapper rewrites `login`, `logout` and
 *   `push` of an ECR reference itself. Images keep their ECR names locally. Other accounts' registries are not
 *   mapped for pulls (moto holds one account).
 * - `rm`: `--time=0`, since `docker rm -f` kills at once where podman first waits 10 s for SIGTERM (a container
 *   whose PID 1 is `/bin/sh` ignores it).
 * - a REGISTRY_AUTH_FILE that does not exist yet (the host scripts name one in their DOCKER_CONFIG) is created
 *   empty: podman refuses a missing one, docker does not.
 * - `push` prints docker's `<tag>: digest: <digest>` line after podman's own output.
 * - containers get no network (`netns = "none"`): each SSM command runs in its own private mount namespace
 *   (command-runner.ts), and a container network namespace bind-mounted there is not visible to the next command
 *   (measured: `docker exec` in a later step logs "Joining network namespace ... unknown FS magic"). Nothing outside
 *   is reachable from this machine anyway; the host side fetches files with curl.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { ecrNamespace } from './ecr-front.ts';

export interface WrapperFiles {
  /** Folder to put first on PATH (holds `docker`). */
  readonly binDir: string;
  readonly docker: string;
  readonly containersConf: string;
  readonly registriesConf: string;
}

export interface WrapperOptions {
  /** Folder for the wrapper and its configuration; must not be under /tmp (each instance has a private /tmp). */
  readonly dir: string;
  /** The docker-registry (`127.0.0.1:<port>`): the `docker.io` mirror. */
  readonly registry: string;
  /** The ECR front (`127.0.0.1:<port>`). */
  readonly ecrFront: string;
  /** The account whose ECR hosts pulls are mapped for (moto's). */
  readonly account: string;
}

/** One shell word (single-quoted); the harness's own paths and addresses. */
const q = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** The runtime settings podman needs here (HARNESS.md): runc, cgroupfs, ulimits within the hard limits. */
export function containersConf(): string {
  return [
    '[containers]',
    'default_ulimits = ["nofile=1024:20000", "nproc=1024:1024"]',
    'netns = "none"',
    '',
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    '',
  ].join('\n');
}

/** The standard partition's regions (aws-cdk-lib's region table): the ECR hosts pulls are mapped for. */
export function ecrRegions(): string[] {
  return RegionInfo.regions.filter((r) => r.partition === 'aws').map((r) => r.name);
}

/**
 * `docker.io` resolves to the local registry (unqualified names too); the local account's ECR hosts to the ECR
 * front's namespaces (pulls); both local servers are plain HTTP.
 */
export function registriesConf(
  registry: string,
  ecrFront: string,
  account: string,
  regions: readonly string[],
): string {
  const ecr = regions.flatMap((region) => [
    '[[registry]]',
    `prefix = "${account}.dkr.ecr.${region}.amazonaws.com"`,
    `location = "${ecrFront}/${ecrNamespace(account, region)}"`,
    'insecure = true',
    '',
  ]);
  return [
    'unqualified-search-registries = ["docker.io"]',
    '',
    '[[registry]]',
    'prefix = "docker.io"',
    `location = "${registry}"`,
    'insecure = true',
    '',
    '[[registry]]',
    `location = "${registry}"`,
    'insecure = true',
    '',
    '[[registry]]',
    `location = "${ecrFront}"`,
    'insecure = true',
    '',
    ...ecr,
  ].join('\n');
}

export function dockerWrapper(files: Omit<WrapperFiles, 'docker' | 'binDir'>, ecrFront: string): string {
  return `#!/bin/bash
# docker for a Kiln local builder host: podman with this machine's runtime settings, ECR hosts mapped to the
# local ECR front. Generated by harness/containers/wrapper.ts.
set -euo pipefail
export CONTAINERS_CONF=${q(files.containersConf)}
export CONTAINERS_REGISTRIES_CONF=${q(files.registriesConf)}
ecr_front=${q(ecrFront)}
ecr_host='^([0-9]{12})\\.dkr\\.ecr(-fips)?\\.([a-z0-9-]+)\\.amazonaws\\.com(\\.cn)?$'

# The front's name for an ECR registry host, or failure for any other host.
ecr_registry() {
  [[ $1 =~ $ecr_host ]] || return 1
  printf '%s/ecr/%s/%s' "$ecr_front" "\${BASH_REMATCH[1]}" "\${BASH_REMATCH[3]}"
}

# The front's name for an image reference in ECR (tag defaulting to latest), or failure.
ecr_image() {
  local ref=$1 registry rest
  case $ref in */*) ;; *) return 1 ;; esac
  registry=$(ecr_registry "\${ref%%/*}") || return 1
  rest=\${ref#*/}
  case \${rest##*/} in *:* | *@*) ;; *) rest="$rest:latest" ;; esac
  printf '%s/%s' "$registry" "$rest"
}

# Splits "$@" of a verb into options (opts) and positionals (args); $1 = options that take a value.
split_args() {
  local valued=$1 arg
  shift
  opts=()
  args=()
  while [ "$#" -gt 0 ]; do
    arg=$1
    shift
    if [ "$arg" = "--" ]; then
      args+=("$@")
      return
    fi
    case $arg in
      --*=*) opts+=("$arg") ;;
      -*)
        opts+=("$arg")
        if [[ " $valued " == *" $arg "* ]] && [ "$#" -gt 0 ]; then
          opts+=("$1")
          shift
        fi
        ;;
      *) args+=("$arg") ;;
    esac
  done
}

# The host scripts point REGISTRY_AUTH_FILE into their DOCKER_CONFIG, where docker keeps config.json only after a
# login; podman 4.3 refuses a named auth file that does not exist ("stat ...: no such file"), docker does not.
if [ -n "\${REGISTRY_AUTH_FILE:-}" ] && [ ! -e "$REGISTRY_AUTH_FILE" ] && [ -d "$(dirname -- "$REGISTRY_AUTH_FILE")" ]; then
  printf '{"auths": {}}\n' >"$REGISTRY_AUTH_FILE"
fi

verb=\${1:-}
[ "$#" -gt 0 ] && shift
case $verb in
  login | logout)
    split_args "-u --username -p --password --authfile" "$@"
    if [ "\${#args[@]}" -eq 1 ] && front=$(ecr_registry "\${args[0]}"); then
      if [ "$verb" = login ]; then opts+=(--tls-verify=false); fi
      exec podman "$verb" "\${opts[@]}" "$front"
    fi
    exec podman "$verb" "$@"
    ;;
  push)
    split_args "--authfile --digestfile" "$@"
    if [ "\${#args[@]}" -eq 1 ] && front=$(ecr_image "\${args[0]}"); then
      digest_file=$(mktemp)
      trap 'rm -f -- "$digest_file"' EXIT
      podman push "\${opts[@]}" --tls-verify=false --digestfile "$digest_file" -- "\${args[0]}" "docker://$front"
      tag=\${args[0]##*/}
      case $tag in *:*) tag=\${tag##*:} ;; *) tag=latest ;; esac
      printf '%s: digest: %s\\n' "$tag" "$(cat -- "$digest_file")"
      exit 0
    fi
    exec podman push "$@"
    ;;
  rm)
    exec podman rm --time=0 "$@"
    ;;
  *)
    exec podman "$verb" "$@"
    ;;
esac
`;
}

export function writeWrapper(options: WrapperOptions): WrapperFiles {
  const binDir = join(options.dir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const containersConfPath = join(options.dir, 'containers.conf');
  const registriesConfPath = join(options.dir, 'registries.conf');
  writeFileSync(containersConfPath, containersConf());
  writeFileSync(registriesConfPath, registriesConf(options.registry, options.ecrFront, options.account, ecrRegions()));
  const docker = join(binDir, 'docker');
  writeFileSync(
    docker,
    dockerWrapper({ containersConf: containersConfPath, registriesConf: registriesConfPath }, options.ecrFront),
  );
  chmodSync(docker, 0o755);
  return { binDir, docker, containersConf: containersConfPath, registriesConf: registriesConfPath };
}
