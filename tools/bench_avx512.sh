#!/usr/bin/env bash
# What the engine's own AVX-512 kernels (engine/cpu/avx512_kernels.h: the shifted-plane convolution and
# the max-pool) buy per training step: build/bench_steps with AMNESIA_AVX512=off, then on, model by
# model, --rounds times over, so both sides see the same machine load; per model the median over the
# rounds of the step's wall ms and process CPU ms, and the off / on ratio of the CPU ms (the steadier
# measure on a shared machine). Appends a dated section to bench/RESULTS.md (or --out).
# Usage: bash tools/bench_avx512.sh [--threads N] [--rounds R] [--seconds S] [--bin PATH] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bench_steps threads=1 rounds=3 seconds=3 out=bench/RESULTS.md
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_avx512.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "bench_avx512.sh: $bin: not built (cmake --build build --target bench_steps)" >&2; exit 2; }
grep -qw avx512f /proc/cpuinfo || { echo "bench_avx512.sh: this CPU has no AVX-512F: nothing to compare" >&2; exit 2; }

raw=$(mktemp) runs_dir=$(mktemp -d)
trap 'rm -rf "$raw" "$runs_dir"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
busy_before=$(top -bn2 -d 1 | awk '/^top -/ { f++ } f == 2 && $1 ~ /^[0-9]+$/ { s += $9 } END { printf "%.1f", s / 100 }')
for model in cvae vae judge mae lntl_baseline lntl; do
  for r in $(seq "$rounds"); do
    for mode in off on; do
      AMNESIA_AVX512=$mode "$bin" --device cpu --threads "$threads" --seconds "$seconds" --only "$model" --out "$runs_dir" 2>/dev/null |
        awk -v m="$mode" '/^\| [a-z_]+ \| [0-9]/ { print m, $2, $8, $16 }' >> "$raw"
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- engine models tools 2>/dev/null || echo "+uncommitted")
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
python3 - "$raw" "$out" <<PY
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
models = list(dict.fromkeys(r[1] for r in rows))
def med(mode, model, col):
    return statistics.median(float(r[col]) for r in rows if r[0] == mode and r[1] == model)
lines = ["", "## $(date -u '+%Y-%m-%d %H:%M') UTC, the AVX-512 kernels on and off, commit $commit", "",
         "Machine: $cpu, $(nproc) cores. \`bash tools/bench_avx512.sh --threads $threads --rounds $rounds --seconds $seconds\`: "
         "\`$bin\` with AMNESIA_AVX512=off (im2col + BLAS convolutions, scalar max-pool) then on (shifted-plane "
         "convolutions, AVX-512 max-pool), model by model, $rounds rounds; medians over the rounds of the median wall ms "
         "and of the process CPU ms per step, $threads engine thread(s). Load average (1/5/15 min) $load_before before, "
         "$load_after after; other processes were using $busy_before cores' worth of CPU when it started.", "",
         "| model | wall ms off | wall ms on | CPU ms off | CPU ms on | CPU ms off / on |", "|---|---|---|---|---|---|"]
for m in models:
    w0, w1, c0, c1 = med("off", m, 2), med("on", m, 2), med("off", m, 3), med("on", m, 3)
    lines.append(f"| {m} | {w0:.2f} | {w1:.2f} | {c0:.2f} | {c1:.2f} | {c0 / c1:.2f}x |")
text = "\n".join(lines) + "\n"
print(text)
open(sys.argv[2], "a").write(text)
PY
