#!/usr/bin/env bash
# Builds the local stand-in for the `python:3.9-slim` image, once per machine (Docker Hub is unreachable here):
# Debian bookworm minbase with python3, pip and `python` (python-is-python3), from this machine's apt mirror,
# without EXTERNALLY-MANAGED (the official python images have none, so `pip install` works as there). It is Debian's
# Python 3.11, not 3.9: a stand-in for the name, not a copy of the image.
#
# Output, keyed by the hash of this script (the recipe), under ${KILN_CACHE_DIR:-~/.cache/kiln}:
#   python-standin-<hash>/rootfs.tar   the root file system
#   python-standin-<hash>/registry/    docker-registry storage holding library/python:3.9-slim; the harness
#                                      (harness/containers/) seeds each local registry it starts from it
# The harness computes the same folder (harness/containers/standin.ts) and says to run this script when it is missing.
# Needs root (debootstrap, podman), debootstrap, podman, runc and docker-registry (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

recipe_hash=$(sha256sum scripts/build-python-standin.sh | cut -c1-16)
cache_root="${KILN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln}"
out="$cache_root/python-standin-$recipe_hash"
if [ -f "$out/registry/.complete" ] && [ "${1:-}" != "--force" ]; then
  echo "python stand-in: cached at $out"
  exit 0
fi
for tool in debootstrap podman runc docker-registry; do
  command -v "$tool" >/dev/null || { echo "python stand-in: $tool is missing (bash scripts/setup.sh installs it)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "python stand-in: debootstrap needs root" >&2; exit 1; }

# The Debian mirror apt already uses (deb822 `URIs:` or one-line `deb URI bookworm`), security suites excluded.
mirror="${KILN_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    sed -n -E 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+bookworm([[:space:]].*)?$/\2/p' |
    grep -E '/debian/?$' | head -n 1 || true)
fi
mirror="${mirror:-http://deb.debian.org/debian}"

mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/.python-standin-build.XXXXXX")
registry_pid=""
image="localhost/kiln-standin/python:$recipe_hash"
cleanup() {
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; fi
  podman --runtime runc --cgroup-manager cgroupfs rmi -f "$image" >/dev/null 2>&1 || true
  rm -rf -- "$work"
}
trap cleanup EXIT

started=$(date +%s)
echo "python stand-in: debootstrap bookworm from $mirror"
debootstrap --variant=minbase --include=python3,python3-pip,python-is-python3 bookworm "$work/rootfs" "$mirror" \
  >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
rm -f "$work"/rootfs/usr/lib/python3*/EXTERNALLY-MANAGED
rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
tar -C "$work/rootfs" --numeric-owner -cf "$work/rootfs.tar" .
echo "python stand-in: rootfs $(du -sm "$work/rootfs.tar" | cut -f1) MB after $(($(date +%s) - started)) s"

# Into podman, then pushed once into a registry whose storage becomes the cached seed.
podman --runtime runc --cgroup-manager cgroupfs import \
  --change 'CMD ["python3"]' --change 'ENV LANG=C.UTF-8' \
  "$work/rootfs.tar" "$image" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done
podman --runtime runc --cgroup-manager cgroupfs push --quiet --tls-verify=false \
  "$image" "docker://127.0.0.1:$port/library/python:3.9-slim"
kill "$registry_pid"
wait "$registry_pid" 2>/dev/null || true
registry_pid=""

rm -rf -- "$out"
mkdir -p "$out"
mv "$work/rootfs.tar" "$out/rootfs.tar"
mv "$work/registry" "$out/registry"
date -u +%Y-%m-%dT%H:%M:%SZ >"$out/registry/.complete"
echo "python stand-in: built in $(($(date +%s) - started)) s at $out"
