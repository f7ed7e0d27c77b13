#!/usr/bin/env bash
# The main job: train the two judges (the paper's 10-class one and the audit's 11-way one with "no
# digit") and the CVAE, forget digits with Selective Amnesia until the forgotten rows converge to
# gray, audit every run with both judges (audit.md / audit.csv, the verdict last, verdict.txt) and
# write the PNGs (sample grids before/after, label-interpolation morphs) and t-SNE maps of the
# encoders' latents. Runs on the GPU when there is one. A stage whose output exists is skipped
# (delete the folder to redo it).
#   bash tools/run_main.sh           # the study's settings: forget 0, 0,1 and 3,5,8 (CVAE 30k steps, 50k-sample Fisher)
#   bash tools/run_main.sh --quick   # a CPU-sized demo: forget 0 and 0,1 (6 minutes on 2 idle cores)
# AMNESIA_BUILD names the build folder to run from (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${AMNESIA_BUILD:-build}
[ -x "$bin/sa_judge" ] || bash tools/setup.sh
if [ "${1:-}" = "--quick" ]; then
  judge=(--epochs 3); judge11=(--epochs 4 --lr-step 3); train=(--steps 3000)
  forget=(--fisher-samples 10000 --max-steps 4000); digit_sets=(0 0,1)
  runs=runs/quick
else
  judge=(); judge11=(); train=(); forget=(); digit_sets=(0 0,1 3,5,8)
  runs=runs
fi
# OpenBLAS one thread inside the engine's pool (these small GEMMs run faster so); the pool takes every
# core (without AMNESIA_THREADS it would follow OPENBLAS_NUM_THREADS and use one).
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} AMNESIA_THREADS=${AMNESIA_THREADS:-$(nproc)}
[ -f "$runs/judge/held_out.md" ] || "$bin/sa_judge" "${judge[@]}" --out "$runs/judge"
[ -f "$runs/judge11/held_out.md" ] || "$bin/sa_judge" --no-digit-class "${judge11[@]}" --out "$runs/judge11"
[ -f "$runs/sa_train/samples.png" ] || "$bin/sa_train" "${train[@]}" --out "$runs/sa_train"  # samples.png: written last
models="$runs/sa_train/cvae.safetensors"
for digits in "${digit_sets[@]}"; do
  out="$runs/forget_${digits//,/}"
  [ -f "$out/audit.md" ] || "$bin/sa_forget" --digits "$digits" "${forget[@]}" --model "$runs/sa_train/cvae.safetensors" \
    --judge "$runs/judge/judge.safetensors" --judge11 "$runs/judge11/judge.safetensors" --out "$out"
  models="$models,$out/cvae_forget.safetensors"
done
# Where the encoders put real digits, before and after each forgetting (t-SNE maps, ~10 s a model).
"$bin/sa_latent" --models "$models" --out "$runs/latent"
echo "verdicts:"
for digits in "${digit_sets[@]}"; do
  echo "  forget $digits: $(head -1 "$runs/forget_${digits//,/}/verdict.txt" | sed 's/.*): //')"
done
echo "done: see $runs/forget_*/audit.md, $runs/forget_0/samples_after.png, $runs/judge11/held_out.md, $runs/latent/summary.md"
