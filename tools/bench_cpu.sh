#!/usr/bin/env bash
# The CPU speed table: every model's training step, ours (build/bench_steps) against PyTorch
# (tools/peers/steps.py, Debian's python3-torch), each at 1 and 2 threads, model by model in one
# interleaved run so both sides see the same machine load, the whole pass repeated --rounds times; each
# cell keeps its fastest round (on a shared machine noise only ever adds time). Appends a dated section
# to bench/RESULTS.md.
usage="usage: bash tools/bench_cpu.sh [--bin PATH] [--seconds S] [--rounds N] [--label TEXT] [--out FILE]"
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bench_steps seconds=3 rounds=3 label="" out=bench/RESULTS.md
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --label) label="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) echo "bench_cpu.sh: unknown argument '$1'; $usage" >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "bench_cpu.sh: --rounds '$rounds': need an integer >= 1" >&2; exit 2; }
python=/usr/bin/python3  # Debian's python3-torch lives in the system interpreter, not a pyenv one
[ -x "$bin" ] || { echo "bench_cpu.sh: $bin: not built (cmake --build build --target bench_steps)" >&2; exit 2; }
"$python" -c "import torch" 2>/dev/null || { echo "bench_cpu.sh: no PyTorch for $python (apt-get install -y python3-torch)" >&2; exit 2; }

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Cores' worth of CPU the other processes were using just before the run (top's second, 1-second frame).
busy_before=$(top -bn2 -d 1 | awk '/^top -/ { f++ } f == 2 && $1 ~ /^[0-9]+$/ { s += $9 } END { printf "%.1f", s / 100 }')
# The OpenBLAS kernels our binary runs on (engine/cpu/blas_kernels.h: it restarts itself on the best ones
# when OpenBLAS does not know the CPU); PyTorch's OpenBLAS is given the same, so both sides use one BLAS.
core=$("$bin" --device cpu --threads 1 --seconds 0.1 --only judge 2>/dev/null | sed -n 's/.*openblas_core=\([^ ]*\).*/\1/p')
[ -n "$core" ] && [ "$core" != none ] && export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-$core}"
ours() {
  "$bin" --device cpu --threads "$1" --seconds "$seconds" --only "$2" |
    awk -v t="$1" '/sgemm_peak_gflops=/ { split($0, a, "sgemm_peak_gflops="); print "peak", t, a[2] }
                   /^\| [a-z_]+ \| [0-9]/ { print "ours", t, $2, $8, $16, $6, $18, $20 }' >> "$raw"
}
torch() {
  OMP_NUM_THREADS="$1" "$python" tools/peers/steps.py --threads "$1" --seconds "$seconds" --only "$2" |
    awk -v t="$1" '/^\| [a-z_]+ \| [0-9]/ { print "torch", t, $2, $6, $10 }' >> "$raw"
}
# Odd rounds run our step first, even rounds PyTorch's: of two back-to-back runs on this VM the first
# was often the faster, so neither side always gets that slot.
for round in $(seq "$rounds"); do
  for model in cvae vae judge mae lntl_baseline lntl; do
    for t in 1 2; do
      if (( round % 2 )); then ours "$t" "$model"; torch "$t" "$model"; else torch "$t" "$model"; ours "$t" "$model"; fi
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- engine models tools 2>/dev/null || echo "+uncommitted")
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
torch_version=$("$python" -c "import torch; print(torch.__version__)")
"$python" - "$raw" "$out" <<EOF
import sys
rows = [l.split() for l in open(sys.argv[1])]
peak = max(float(r[2]) for r in rows if r[0] == "peak" and r[1] == "2")
peak1 = max(float(r[2]) for r in rows if r[0] == "peak" and r[1] == "1")
ms, cpu, gflop, alone, alone_pct = {}, {}, {}, {}, {}
for r in rows:
    if r[0] in ("ours", "torch"):  # each cell: its fastest round
        key = (r[0], r[1], r[2])
        ms[key] = min(ms.get(key, float("inf")), float(r[3]))
        cpu[key] = min(cpu.get(key, float("inf")), float(r[4]))
    if r[0] == "ours":
        gflop[r[2]] = float(r[5])
        if r[1] == "1":
            alone[r[2]] = min(alone.get(r[2], float("inf")), float(r[6]))
            alone_pct[r[2]] = max(alone_pct.get(r[2], 0.0), float(r[7]))
models = list(dict.fromkeys(r[2] for r in rows if r[0] == "ours"))
lines = [
    "",
    "## $(date -u '+%Y-%m-%d %H:%M') UTC, CPU step table${label:+ ($label)}, commit $commit",
    "",
    "Machine: $cpu, $(nproc) cores. \`bash tools/bench_cpu.sh --seconds $seconds --rounds $rounds\`: ours = \`$bin\`, "
    "PyTorch $torch_version = \`tools/peers/steps.py\`, model by model, 1 then 2 threads, median wall ms of a "
    "training step after 3 warm-up steps, the fastest of $rounds interleaved rounds (odd rounds ours first, even rounds PyTorch first), both sides on OpenBLAS's ${OPENBLAS_CORETYPE:-own choice of} kernels. Load average (1/5/15 min) $load_before before, $load_after after; "
    "other processes were using $busy_before cores' worth of CPU when it started. "
    f"SGEMM peak (2048^3 through our gemm, best of the run): {peak1:.1f} GFLOP/s on 1 thread, {peak:.1f} on 2. "
    "On a shared machine the wall times swing with the load; the process CPU ms per step at 1 thread is the "
    "steadier measure of what a step costs. GEMMs alone: the step's GEMM calls (traced from one step) replayed "
    "back to back at 1 thread, i.e. the step if nothing but its GEMMs cost anything; the share is of the "
    "1-thread step's CPU ms, the rate counts those GEMMs' own FLOPs (the shifted-plane convolutions use none).",
    "",
    "| model | GFLOP/step | ours 1 thr | ours 2 thr | PyTorch 1 thr | PyTorch 2 thr | ours 1->2 thr | "
    "PyTorch best / ours best | ours best GFLOP/s | % of 2-core peak | CPU ms/step 1 thr: ours / PyTorch | "
    "GEMMs alone 1 thr (share of the step) | GEMMs alone, % of 1-thread peak |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]
for m in models:
    o1, o2 = ms[("ours", "1", m)], ms[("ours", "2", m)]
    t1, t2 = ms.get(("torch", "1", m), float("nan")), ms.get(("torch", "2", m), float("nan"))
    best = min(o1, o2)
    rate = gflop[m] / best * 1e3
    c1, tc1 = cpu[("ours", "1", m)], cpu.get(("torch", "1", m), float("nan"))
    lines.append(f"| {m} | {gflop[m]:.3f} | {o1:.2f} ms | {o2:.2f} ms | {t1:.2f} ms | {t2:.2f} ms | "
                 f"{o1 / o2:.2f}x | {min(t1, t2) / best:.2f}x | {rate:.1f} | {100 * rate / peak:.1f} | "
                 f"{c1:.1f} / {tc1:.1f} ({tc1 / c1:.2f}x) | {alone[m]:.2f} ms ({100 * alone[m] / c1:.0f} %) | "
                 f"{alone_pct[m]:.0f} |")
text = "\n".join(lines) + "\n"
print(text)
with open(sys.argv[2], "a") as f:
    f.write(text)
EOF
