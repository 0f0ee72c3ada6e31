#!/usr/bin/env bash
# The offline demo (npm run demo): hls's whole loop against simulated GitHub and Claude APIs on
# 127.0.0.1. With ANTHROPIC_API_KEY set the real model answers; GitHub stays simulated.
# State goes to ./.demo (override with HLS_DEMO_DIR). See docs/demo.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f dist/simulators/github.js ] || [ ! -f dist/cli.js ]; then
  echo "error: dist/ is missing: run npm ci (or npm run build) first" >&2
  exit 66
fi
exec node examples/demo/demo.mjs
