#!/bin/sh
# Builds build/plugin.wasm from assembly/plugin.ts (needs node + npm).
# The built module is committed, so only guest changes need this.
set -eu
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund
npx asc assembly/plugin.ts --outFile build/plugin.wasm \
  --use abort=assembly/plugin/myAbort --optimize --transform json-as
ls -l build/plugin.wasm
