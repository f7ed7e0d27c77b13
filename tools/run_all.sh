#!/usr/bin/env bash
# Every study in order, then one report: runs/<preset>/REPORT.md (tables, figures, command lines,
# wall times, commit, device, threads and the audit verdicts), which the README quotes.
#   bash tools/run_all.sh                     # --preset quick: a CPU-sized pass over all six studies
#   bash tools/run_all.sh --preset full       # the studies' own settings (hours on a CPU: a GPU job)
#   bash tools/run_all.sh --device cpu        # auto (default) | cpu | cuda, passed to every binary
#   bash tools/run_all.sh --report-only       # rewrite REPORT.md from the stages' outputs, run nothing
# A stage whose command line and input files are unchanged since it last finished is skipped, so an
# interrupted run resumes where it stopped; delete runs/<preset>/<stage> to redo one stage.
set -euo pipefail
cd "$(dirname "$0")/.."

preset=quick device=auto report_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) preset="${2:?--preset needs quick or full}"; shift 2 ;;
    --device) device="${2:?--device needs auto, cpu or cuda}"; shift 2 ;;
    --report-only) report_only=1; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_all.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$preset" in quick|full) ;; *) echo "run_all.sh: --preset: expected quick or full, got '$preset'" >&2; exit 2 ;; esac
case "$device" in auto|cpu|cuda) ;; *) echo "run_all.sh: --device: expected auto, cpu or cuda, got '$device'" >&2; exit 2 ;; esac

[ -x build/sa_train ] || bash tools/setup.sh
# OpenBLAS runs inside the engine's pool, one thread each; the pool takes every core (without
# AMNESIA_THREADS it would follow OPENBLAS_NUM_THREADS and run every stage on one thread).
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} AMNESIA_THREADS=${AMNESIA_THREADS:-$(nproc)}
R=runs/$preset
mkdir -p "$R"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit (with uncommitted changes)"
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

# Per preset: the flags of every stage.
if [ "$preset" = quick ]; then
  judge=(--epochs 3); judge11=(--epochs 4 --lr-step 3)
  train=(--steps 3000); forget=(--fisher-samples 10000 --max-steps 4000)
  grayout=(--steps 1000 --lr 1e-3 --fisher-samples 10000 --audit-samples 300); attack=(--attack-starts 16 --attack-steps 200)
  latent=(--points 1000 --iterations 500)
  mae=(--warmup 1 --epochs 2 --train-images 20000 --val-images 5000)
  cf=(--steps-per-phase 1500 --eval-every 250 --eval-samples 1000)
  # LNTL: all 60k images, 5 baseline epochs then ONE LNTL epoch at lr 0.01 (the first LNTL epoch makes
  # most of the gain: docs/notes/lntl.md); about 6 minutes on one core.
  lntl=(--train-images 60000 --epochs 5 --lntl-epochs 1 --lr 0.01 --lntl-lr 0.01 --lr-step 1000)
else
  judge=(); judge11=(); train=(); forget=(); grayout=(); attack=(); latent=(); mae=(); cf=()
  lntl=(--config experiments/lntl/lntl.conf)
fi

# stage NAME INPUT_FILES... -- COMMAND...: runs COMMAND (its --out is $R/NAME) unless the same
# command with the same inputs already finished; records the command and its wall time.
stage() {
  [ "$report_only" = 0 ] || return 0
  local name=$1; shift
  local inputs=()
  while [ "$1" != "--" ]; do inputs+=("$1"); shift; done
  shift
  local dir=$R/$name key
  key=$( { printf '%s\n' "$*"; for f in "${inputs[@]}"; do sha1sum "$f"; done; } | sha1sum | cut -c1-16)
  if [ -f "$dir/.stage_done" ] && [ "$(cat "$dir/.stage_done")" = "$key" ]; then
    echo "== $name: done before (same command and inputs), skipped"
    return
  fi
  echo "== $name: $*"
  rm -rf "$dir"  # a rerun starts clean: no figure of an earlier run may stay behind in the report
  mkdir -p "$dir"
  local t0=$SECONDS
  "$@" --device "$device" --out "$dir"
  printf '%s\n' "$*" > "$dir/.command"
  echo $((SECONDS - t0)) > "$dir/.seconds"
  echo "$key" > "$dir/.stage_done"
}

J=$R/judge/judge.safetensors J11=$R/judge11/judge.safetensors
M=$R/sa_train/cvae.safetensors
stage judge -- ./build/sa_judge "${judge[@]}"
stage judge11 -- ./build/sa_judge --no-digit-class "${judge11[@]}"
stage sa_train -- ./build/sa_train "${train[@]}"
for digits in 0 0,1 3,5,8; do
  stage "forget_${digits//,/}" "$M" "$J" "$J11" -- ./build/sa_forget --digits "$digits" "${forget[@]}" \
    --model "$M" --judge "$J" --judge11 "$J11"
done
stage grayout_9 "$M" "$J" "$J11" -- ./build/sa_grayout --digits 9 "${grayout[@]}" "${attack[@]}" --model "$M" --judge "$J" --judge11 "$J11"
stage grayout_9then2 "$M" "$J" "$J11" -- ./build/sa_grayout --digits 9,2 --sequential "${grayout[@]}" --attack-starts 0 \
  --model "$M" --judge "$J" --judge11 "$J11"
stage sa_train_nolabel -- ./build/sa_train "${train[@]}" --no-encoder-label
stage latent "$M" "$R/forget_0/cvae_forget.safetensors" "$R/sa_train_nolabel/cvae.safetensors" -- \
  ./build/sa_latent "${latent[@]}" \
  --models "$M,$R/forget_0/cvae_forget.safetensors,$R/sa_train_nolabel/cvae.safetensors"
stage mae -- ./build/mae "${mae[@]}"
stage cf_vae -- ./build/cf_vae "${cf[@]}"
stage lntl -- ./build/lntl "${lntl[@]}"

# ---- the report ----------------------------------------------------------------------------
report=$R/REPORT.md
# json_field FILE KEY: the LAST value under KEY (the top-level "device" follows the flag of that name).
json_field() { grep -o "\"$2\": [^,}]*" "$1" | tail -1 | sed 's/^[^:]*: //; s/"//g'; }
# The stage's run.json: which commit, device and engine threads actually made it.
made_by() {
  local j=$1/run.json
  [ -f "$j" ] || { echo "no run.json"; return; }
  local threads
  threads=$(json_field "$j" engine)  # absent from records written before the field existed
  echo "commit $(json_field "$j" commit | cut -c1-7), device $(json_field "$j" device)${threads:+, $threads engine thread(s)}"
}
section() {  # section TITLE STAGE...: command, wall time, the stage's markdown and figures
  local title=$1; shift
  echo "## $title"; echo
  for s in "$@"; do
    local d=$R/$s
    [ -f "$d/.stage_done" ] || { echo "(stage $s did not run)"; echo; continue; }
    echo "**$s**: \`$(cat "$d/.command")\` ($(made_by "$d"), $(cat "$d/.seconds") s wall)"; echo
    if [ -f "$d/judge.csv" ]; then
      tail -1 "$d/judge.csv" | awk -F, '{ printf "Test accuracy after %d epochs: %.2f %%.\n\n", $1, 100 * $4 }'
    fi
    for md in "$d"/held_out.md "$d"/audit.md "$d"/summary.md "$d"/attack.md; do
      [ -f "$md" ] && { sed 's/^#/###/' "$md"; echo; }
    done
    if [ -f "$d/results.csv" ]; then
      awk -F, 'NR==1{h="|"; s="|"; for(i=1;i<=NF;i++){h=h" "$i" |"; s=s"---|"} print h; print s; next}
               {r="|"; for(i=1;i<=NF;i++) r=r" "$i" |"; print r}' "$d/results.csv"; echo
    fi
    find "$d" -name '*.png' | sort | while read -r png; do echo "![${png#$R/}](${png#$R/})"; done; echo
  done
}
# One line per finding, for the summary table at the top (the sections below hold the evidence).
headline() {
  local d=$R/$1
  [ -f "$d/.stage_done" ] || { echo "did not run"; return; }
  case "$1" in
    judge|judge11) tail -1 "$d/judge.csv" | awk -F, '{ printf "test accuracy %.2f %%", 100 * $4 }' ;;
    forget_*|grayout_*)
      printf '%s; verdict %s' "$(grep -m1 '^10-class judge, forgotten digits' "$d/audit.md" | sed 's/^10-class judge, //')" \
        "$(head -1 "$d/verdict.txt" 2>/dev/null | grep -o '[A-Z]*$' || echo 'n/a (no 11-way judge)')" ;;
    latent) awk -F'|' '/^\| [a-z_0-9]+ \| (yes|no) /{ gsub(/ /, "", $2); gsub(/^ | $/, "", $5); printf "%s%s %s", sep, $2, $5; sep = ", " }' \
              "$d/summary.md"; printf ' (knn digit accuracy in z)' ;;
    mae) awk -F'|' '/^\| best checkpoint/{ for (i = 2; i <= 8; i++) gsub(/^ +| +$/, "", $i)
           printf "best epoch: learn BCE %s, forget BCE %s nats/image, forget Q acc %s", $4, $5, $7 }' "$d/summary.md" ;;
    cf_vae) grep '^MNIST recon over phase 2' "$d/summary.md" | sed 's/^MNIST recon over phase 2, //; s/ ([+-][0-9.]* % of its phase-1 value)//' | paste -sd';' | sed 's/;/; /g; s/^/MNIST recon drift: /' ;;
    lntl) awk -F, 'NR > 1 { printf "%s%s %.2f %%", sep, $2, 100 * $3; sep = ", " }' "$d/results.csv"
          printf ' (unbiased test accuracy, var 0.035)' ;;
  esac
}
{
  echo "# amnesia: every study, preset \`$preset\`"; echo
  echo "<!-- summary:begin -->"
  echo "Written by \`bash tools/run_all.sh --preset $preset\` $(date -u '+%Y-%m-%d %H:%M UTC') at commit $commit on $machine; device $device;"
  echo "AMNESIA_THREADS=$AMNESIA_THREADS, OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS. Each stage's command, wall time and the commit, device and"
  echo "thread count of its run.json stand under its name (a stage skipped as done before keeps the time of the"
  echo "run that made it). The stages' wall times add up to $(cat "$R"/*/.seconds 2>/dev/null | awk '{ t += $1 } END { printf "%d s (%.1f min)", t, t / 60 }')."; echo
  echo "| study | stage | finding |"; echo "|---|---|---|"
  for row in "judges:judge" "judges:judge11" "1. Selective Amnesia:forget_0" "1. Selective Amnesia:forget_01" \
             "1. Selective Amnesia:forget_358" "2. gray-out:grayout_9" "2. gray-out:grayout_9then2" "3. latent:latent" \
             "4. MAE:mae" "5. cf_vae:cf_vae" "6. LNTL:lntl"; do
    echo "| ${row%%:*} | ${row#*:} | $(headline "${row#*:}") |"
  done
  echo
  # The figures the README shows (tools/publish_report.sh copies this summary), where the stages made them.
  for png in forget_01/samples_after.png forget_01/morph.png grayout_9/attack.png latent/tsne_forget_0.png \
             latent/tsne_sa_train_nolabel.png mae/recon_before_after.png cf_vae/recon_curves.png \
             lntl/var_0.035/learning_curves.png lntl/var_0.035/confusion_lntl.png; do
    if [ -f "$R/$png" ]; then echo "![$png]($png)"; fi
  done
  echo "<!-- summary:end -->"; echo
  section "Judges (the audit's 10-class and 11-way judges)" judge judge11
  section "1. Selective Amnesia on a one-hot CVAE" sa_train forget_0 forget_01 forget_358
  section "2. Gray-out forgetting, sequential forgetting, decoder attacks" grayout_9 grayout_9then2
  section "3. Latent analysis (t-SNE)" sa_train_nolabel latent
  section "4. Evidence unlearning with a conv autoencoder (MAE + Q)" mae
  section "5. Catastrophic forgetting of a VAE (EWC, replay)" cf_vae
  section "6. Learning Not to Learn on Colored MNIST" lntl
} > "$report"
echo "wrote $report"
