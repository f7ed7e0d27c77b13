#!/usr/bin/env bash
# The test command: every CPU test, plus the `gpu` tests (skipped when no CUDA device is present).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure
