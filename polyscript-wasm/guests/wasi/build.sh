#!/usr/bin/env bash
# Rebuilds the WASI guest module(s). Needs Zig 0.17.0, e.g. from PyPI:
#   pip install ziglang==0.17.0
# The built .wasm files are committed, so nobody needs Zig to build or test.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p build
python3 -m ziglang build-exe src/scripts.zig -target wasm32-wasi -O ReleaseSmall \
    -femit-bin=build/scripts.wasm
rm -f build/*.o
ls -l build/*.wasm
