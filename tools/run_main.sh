#!/usr/bin/env bash
# The main job: train the judge and the CVAE, forget digit 0 and digits 0,1 with Selective Amnesia,
# audit both with the judge (audit.md / audit.csv) and write the PNGs (sample grids before/after,
# label-interpolation morphs) and t-SNE maps of the encoders' latents. Runs on the GPU when there is one.
#   bash tools/run_main.sh           # the study's settings (100k CVAE steps, 50k-sample Fisher, 10k forget steps)
#   bash tools/run_main.sh --quick   # a CPU-sized demo (about 10 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/sa_judge ] || bash tools/setup.sh
if [ "${1:-}" = "--quick" ]; then
  judge=(--epochs 3); train=(--steps 3000 --lr 1e-3); forget=(--steps 1000 --lr 1e-3 --fisher-samples 10000)  # lr 1e-3: 1000 steps at 1e-4 barely forget
  runs=runs/quick
else
  judge=(); train=(); forget=(); runs=runs
fi
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}  # these small GEMMs run faster on one thread
[ -f "$runs/judge/judge.safetensors" ] || ./build/sa_judge "${judge[@]}" --out "$runs/judge"
./build/sa_train "${train[@]}" --out "$runs/sa_train"
for digits in 0 0,1; do
  ./build/sa_forget --digits "$digits" "${forget[@]}" --model "$runs/sa_train/cvae.safetensors" \
    --judge "$runs/judge/judge.safetensors" --out "$runs/forget_${digits/,/}"
done
# Where the encoders put real digits, before and after each forgetting (t-SNE maps, ~10 s a model).
./build/sa_latent --models "$runs/sa_train/cvae.safetensors,$runs/forget_0/cvae_forget.safetensors,$runs/forget_01/cvae_forget.safetensors" \
  --out "$runs/latent"
echo "done: see $runs/forget_0/audit.md, $runs/forget_01/audit.md, $runs/forget_0/samples_after.png, $runs/forget_0/morph.png, $runs/latent/summary.md"

