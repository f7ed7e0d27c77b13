#!/usr/bin/env bash
# Run ON the GPU machine (device tool, carry [".carry"] from tools/gpu_prepare.sh). Builds for sm_90
# without OpenBLAS (the CPU ops fall back to the blocked-loop GEMM), runs the `gpu` suite (every CUDA
# op and the whole judge and LNTL step against their CPU twins), the CVAE microbenchmark, the PyTorch
# peer of the same step, and a short end-to-end Selective Amnesia run; writes $OUT/gpu_check.md,
# $OUT/logs.tar.gz and one picture (the device tool returns at most 8 files). A step that fails is
# recorded and the rest still run.
#   bash tools/gpu_check.sh            # about 5 minutes on an H100
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu_check}
logs=runs/gpu_check_logs
mkdir -p "$OUT" "$logs"
report="$OUT/gpu_check.md"
{ echo "# gpu_check $(date -u +%F) commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"; echo
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | sed 's/^/device: /'; echo; } > "$report"

step() {  # step NAME COMMAND...: runs it, logs to $logs/NAME.log, records status and seconds
  local name=$1; shift
  local t0=$SECONDS
  "$@" > "$logs/$name.log" 2>&1
  local rc=$?
  echo "- $name: exit $rc, $((SECONDS - t0)) s" >> "$report"
  return $rc
}

step data bash data/fetch.sh --src .carry/data
zlib=()  # the carried zlib when the image has no zlib headers of its own
[ -f /usr/include/zlib.h ] || zlib=(-DZLIB_INCLUDE_DIR="$PWD/.carry/zlib/usr/include"
                                    -DZLIB_LIBRARY="$(ls "$PWD"/.carry/zlib/usr/lib/*/libz.a)")
step build bash -c 'cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 "$@" &&
                    cmake --build build-gpu -j"$(nproc)"' _ "${zlib[@]}"
step gpu_tests ./build-gpu/amnesia_gpu_tests
step cpu_tests ./build-gpu/amnesia_tests
step bench_cvae ./build-gpu/bench_cvae --device cuda --steps 2000
step peer_torch python3 tools/peer_cvae.py --steps 2000
step e2e bash -c './build-gpu/sa_judge --epochs 2 --out runs/gpu_e2e/judge &&
                  ./build-gpu/sa_train --steps 5000 --lr 1e-3 --out runs/gpu_e2e/sa_train &&
                  ./build-gpu/sa_forget --digits 0 --steps 2000 --lr 1e-3 --model runs/gpu_e2e/sa_train/cvae.safetensors \
                      --judge runs/gpu_e2e/judge/judge.safetensors --out runs/gpu_e2e/forget_0'

{ echo; echo "## bench_cvae (cuda)"; tail -n 3 "$logs/bench_cvae.log"
  echo; echo "## PyTorch peer"; tail -n 4 "$logs/peer_torch.log"
  echo; echo "## gpu tests"; tail -n 4 "$logs/gpu_tests.log"
  echo; echo "## end to end (forget 0, short)"; grep -A16 "Judge audit" "$logs/e2e.log" | head -20; } >> "$report"
cp runs/gpu_e2e/forget_0/samples_after.png "$OUT/" 2>/dev/null
tar -czf "$OUT/logs.tar.gz" -C "$logs" .
cat "$report"
