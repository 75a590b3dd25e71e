#!/bin/sh
# Builds build/plugin.wasm (assembly/plugin.ts), build/rules.wasm (the
# host_functions example's rule) and build/host.wasm
# (assembly/host.ts, the exports calling polyscript host functions) — needs
# node + npm. The built modules are committed, so only guest changes need
# this. Separate modules because a module importing host functions is refused by
# evaluators without them: plugin.wasm imports only Extism's own functions.
set -eu
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund
for entry in plugin host rules; do
  npx asc "assembly/$entry.ts" --outFile "build/$entry.wasm" \
    --use abort=assembly/lib/myAbort --optimize --transform json-as
done
ls -l build/*.wasm
