#!/usr/bin/env bash
# Installs everything the project needs on this machine, idempotently:
#   1. npm dependencies (npm ci) when node_modules is missing or older than package-lock.json;
#   2. a WebGPU adapter for Node, plus chromium and ffmpeg (scripts/setup-adapter.sh).
# Runs before `npm test` and `npm run quickstart`; never on `npm install` of this package elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules/webgpu ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/setup-adapter.sh
