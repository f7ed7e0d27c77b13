#!/usr/bin/env bash
# tools/lntl_sweep.sh --report-only on hand-made run folders: a finished run is counted and leaves its
# record.json, an unfinished one and one whose flags differ from the recipe are not, and a published
# record whose folder is gone is restored and counted, its row naming where its numbers came from.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# One run folder: results.csv, run.json (the recipe's flags, lr as a float prints it), train_log.csv.
make_run() {  # dir var baseline_acc lntl_acc lntl_epochs lr [extra flags, JSON]
  local d=$1 var=$2 base=$3 final=$4 epochs=$5 lr=$6 extra=${7:-}
  mkdir -p "$d"
  { echo "var,method,test_accuracy,colour_agreement,epochs,train_images,seconds"
    echo "$var,baseline,$base,0.5,20,60000,900"
    echo "$var,lntl,$final,0.2,$epochs,60000,1700"; } > "$d/results.csv"
  cat > "$d/run.json" <<JSON
{"program": "lntl", "flags": {"train-images": "60000", "epochs": "20", "lntl-epochs": "$epochs", "batch": "128",
 "lr": "$lr", "lntl-lr": "0.00100000005", "lr-step": "20", "lr-gamma": "0.100000001", "momentum": "0.899999976",
 "weight-decay": "0.000500000024", "lambda": "0.00999999978", "mu": "0.100000001", "reuse-baseline": "false"$extra},
 "commit": "0123456789abcdef", "threads": {"engine": 2}}
JSON
  { echo "var,phase,epoch,lr,ce,lambda_neg_entropy,colour_ce,test_accuracy,seconds"
    for e in $(seq 1 "$epochs"); do echo "$var,lntl,$e,0.001,0.1,-0.01,2.5,$(awk -v e="$e" -v f="$final" 'BEGIN { print (e == 3 ? f + 0.05 : f) }'),68"; done
  } > "$d/train_log.csv"
}

out=$t/sweep archive=$t/published
make_run "$out/var_0.020_seed_0" 0.020 0.3212 0.6000 25 0.00999999978   # finished, the recipe's flags
make_run "$out/var_0.050_seed_0" 0.050 0.6500 0.8000 7 0.00999999978    # unfinished: 7 of 25 epochs
make_run "$out/var_0.040_seed_0" 0.040 0.7000 0.9000 25 0.02            # another baseline lr
make_run "$out/var_0.045_seed_0" 0.045 0.7500 0.9500 25 0.00999999978 ', "g-in-colour-step": "true"'  # another game
# A run resumed in its LNTL phase: train_log.csv holds only its last process's epoch; the checkpoint's
# metadata holds the whole curve (best 72.00 at epoch 5), which the report must use.
make_run "$out/var_0.030_seed_0" 0.030 0.4500 0.7000 25 0.00999999978
{ echo "var,phase,epoch,lr,ce,lambda_neg_entropy,colour_ce,test_accuracy,seconds"
  echo "0.030,lntl,25,0.0001,0.1,-0.01,2.5,0.7000,68"; } > "$out/var_0.030_seed_0/train_log.csv"
mkdir -p "$out/var_0.030_seed_0/var_0.030"
/usr/bin/python3 - "$out/var_0.030_seed_0/var_0.030/lntl.safetensors" <<'PY'
import json, sys
curve = ",".join(["60.0000"] * 4 + ["72.0000"] + ["70.0000"] * 20)
header = json.dumps({"__metadata__": {"model": "lntl", "phase": "lntl", "accuracy_per_epoch": curve}}).encode()
open(sys.argv[1], "wb").write(len(header).to_bytes(8, "little") + header)
PY
mkdir -p "$archive/var_0.035_seed_1"
cat > "$archive/var_0.035_seed_1/record.json" <<'JSON'
{"var": "0.035", "seed": 1, "base": 48.94, "base_s": null, "final": 81.0, "colour": 16.34, "best": 81.98,
 "best_epoch": 13, "lntl_s": 1702, "lntl_curve": null, "commit": "3fb0049", "threads": 2,
 "flags": {"train-images": "60000", "epochs": "20", "lntl-epochs": "25", "batch": "128", "lr": "0.01",
           "lntl-lr": "0.001", "lr-step": "20", "lr-gamma": "0.1", "momentum": "0.9", "weight-decay": "0.0005",
           "lambda": "0.01", "mu": "0.1"},
 "machine": "2 cores, an earlier Xeon", "source": "its run folder"}
JSON

bash "$root/tools/lntl_sweep.sh" --report-only --out "$out" --archive "$archive" > "$t/log"
report=$out/REPORT.md
grep -q "restored: $out/var_0.035_seed_1" "$t/log" || fail "the published record was not restored"
grep -q '^| 0.020 | 40.55 | 32.12 | 81.85 | \*\*60.00\*\* | 65.00 | 0 |$' "$report" || fail "the finished 0.020 run's row"
grep -q '^| 0.035 | 66.26 | 48.94 | 93.06 | \*\*81.00\*\* | 81.98 | 1 |$' "$report" || fail "the restored 0.035 run's row"
grep -q '^| 0.050 | 84.50 | not run yet |' "$report" || fail "the unfinished 0.050 run was counted"
grep -q '^| 0.040 | 73.33 | not run yet |' "$report" || fail "the 0.040 run with another lr was counted"
grep -q 'Not counted: var_0.040_seed_0 (its flags differ from the config: lr 0.02)' "$report" || fail "no reason for 0.040"
grep -q '^| 0.045 | 79.73 | not run yet |' "$report" || fail "the 0.045 run with g in the colour step was counted"
grep -q 'Not counted: var_0.045_seed_0 (its flags differ from the config: g-in-colour-step true)' "$report" ||
  fail "no reason for 0.045"
grep -q '| var_0.035_seed_1 | .*| committed record: its run folder |$' "$report" || fail "the restored row's source"
grep -q '| var_0.020_seed_0 | .*| 60.00 | 65.00 (3) | .*| its run folder |$' "$report" || fail "the 0.020 run's every-run row"
grep -q '| var_0.030_seed_0 | .*| 70.00 | 72.00 (5) | .*| its run folder |$' "$report" ||
  fail "the resumed 0.030 run's curve was not taken from its checkpoint"
[ -f "$out/var_0.020_seed_0/record.json" ] || fail "no record.json for the counted run"
[ ! -f "$out/var_0.050_seed_0/record.json" ] || fail "a record.json for the unfinished run"
# The record alone reproduces the row: drop the folder's own files, keep the record, report again.
rm "$out/var_0.020_seed_0"/{results.csv,run.json,train_log.csv}
bash "$root/tools/lntl_sweep.sh" --report-only --out "$out" --archive "$archive" > /dev/null
grep -q '^| 0.020 | 40.55 | 32.12 | 81.85 | \*\*60.00\*\* | 65.00 | 0 |$' "$report" || fail "the 0.020 row from its record"
echo "lntl_sweep report: ok"
