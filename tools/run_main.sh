#!/usr/bin/env bash
# The main job: train the CVAE, train the judge, forget digit 0 and digits 0,1 with Selective
# Amnesia, audit before/after with the judge, and write the PNGs. Runs on the GPU when there is one.
#   bash tools/run_main.sh           # the study's settings (100k CVAE steps, 20 judge epochs, 10k forget steps)
#   bash tools/run_main.sh --quick   # a CPU-sized demo (about 10 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/sa_train ] || bash tools/setup.sh
if [ "${1:-}" = "--quick" ]; then
  train=(--steps 3000 --lr 1e-3); judge=(--epochs 2 --lr 1e-3); forget=(--steps 1000 --fisher-samples 10000 --audit-samples 200)
  runs=runs/quick
else
  train=(); judge=(); forget=(); runs=runs
fi
./build/sa_train "${train[@]}" --out "$runs/sa_train"
./build/sa_judge "${judge[@]}" --out "$runs/judge"
for digits in 0 0,1; do
  ./build/sa_forget --digits "$digits" "${forget[@]}" --model "$runs/sa_train/cvae.safetensors" \
    --judge "$runs/judge/judge.safetensors" --out "$runs/forget_${digits/,/}"
done
echo "done: see $runs/forget_0/audit.md, $runs/forget_0/samples_after.png, $runs/forget_0/morph.png"
