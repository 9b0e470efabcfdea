#!/usr/bin/env bash
# Fast check run before `npm start`, `npm test` and `npm run kiln` (npm pre-scripts): runs the setup step when it
# has not run yet, so both commands work as the first one after cloning. When setup is done it only compares a
# few timestamps (a few milliseconds): the CLI bundle is rebuilt when a source is newer than it, and dependencies
# are never reinstalled behind your back (a changed package-lock.json only prints a hint).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/node ] || [ ! -d node_modules/esbuild ]; then
  echo "setup: first run, installing (bash scripts/setup.sh)" >&2
  exec bash scripts/setup.sh
fi
if [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: package-lock.json changed since the last install; run bash scripts/setup.sh to update" >&2
fi
stale=""
if [ ! -f dist/kiln.mjs ] || [ ! -f dist/kiln-agent.mjs ]; then
  stale="missing"
else
  stale=$(find aws cli core agent functions/registry.ts infra/bundle-recipe.ts scripts/build-cli.ts scripts/build-agent.ts package-lock.json -newer dist/kiln.mjs \
    -name '*.ts' -print -quit 2>/dev/null || true)
  [ -z "$stale" ] && [ package-lock.json -nt dist/kiln.mjs ] && stale="package-lock.json"
fi
if [ -n "$stale" ]; then
  echo "setup: building the kiln CLI and kiln-agent bundles (dist/kiln.mjs, dist/kiln-agent.mjs; $stale)" >&2
  node_modules/.bin/node --import tsx scripts/build-cli.ts >/dev/null
fi
# The python:3.9-slim stand-in of the docker builder hosts: a cache hit costs one sha256sum; a changed recipe
# (scripts/build-python-standin.sh) rebuilds it (~1-3 min). Without root or the tools, the harness says what to run.
if [ "$(id -u)" -eq 0 ] && command -v debootstrap >/dev/null && command -v podman >/dev/null; then
  bash scripts/build-python-standin.sh >/dev/null ||
    echo "setup: the python:3.9-slim stand-in did not build (bash scripts/build-python-standin.sh shows why)" >&2
fi
