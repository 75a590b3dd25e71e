#!/usr/bin/env bash
# Rebuilds the WASI guest modules. Needs Zig 0.17.0, e.g. from PyPI:
#   pip install ziglang==0.17.0
# The built .wasm files are committed, so nobody needs Zig to build or test.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p build
# A 1 MiB stack (Zig's default for wasm is 16 MiB, all of it initial linear
# memory, so every instance started at 16 MiB and a memory limit below that
# could not even instantiate): the modules start at ~1.1 MiB.
STACK=1048576
# scripts.wasm: the conformance/test guest. -rdynamic exports the functions
# marked `export` (entry points besides `_start`).
python3 -m ziglang build-exe src/scripts.zig -target wasm32-wasi -O ReleaseSmall -rdynamic \
    --stack "$STACK" -femit-bin=build/scripts.wasm
# host.wasm: the same contract, calling host functions (polyscript_host ABI).
python3 -m ziglang build-exe src/host.zig -target wasm32-wasi -O ReleaseSmall \
    --stack "$STACK" -femit-bin=build/host.wasm
rm -f build/*.o
ls -l build/*.wasm
