#!/usr/bin/env bash
# The paper's LNTL table from a committed recipe (default experiments/lntl/lntl_2h.conf): baseline +
# LNTL at every colour variance (seed 0), plus seeds 1 and 2 at var 0.035 for the spread, then
# <out>/REPORT.md with the paper's numbers beside ours. Each run is `lntl --config CONF --var V --seed S`
# on --threads engine threads (default one) in <out>/var_V_seed_S/ (about 75 min a run on one core
# here); --jobs of them run side by side. A run whose results.csv has its LNTL row is done and skipped; an
# unfinished one continues each phase from its checkpoint (lntl --resume: the last finished epoch, or the
# step Ctrl-C/SIGTERM stopped it at, exactly), so the sweep resumes across sessions. The
# report takes only runs whose recorded flags match the config, and leaves in each counted run's folder
# a record.json (its numbers, flags, commit, machine, wall times); tools/publish_report.sh commits those
# records beside the report, and a run whose folder is gone (another machine, an earlier session) is
# restored from its committed record, so the table keeps it and says where it came from.
#   bash tools/lntl_sweep.sh                          # every pending run, 2 at a time, then the report
#   bash tools/lntl_sweep.sh --runs 0.030:0,0.040:0   # just these var:seed runs
#   bash tools/lntl_sweep.sh --report-only            # rewrite REPORT.md from what has finished
#   bash tools/lntl_sweep.sh --jobs 1 --threads 2     # one run at a time on both cores (same bits, sooner)
#   bash tools/lntl_sweep.sh --config experiments/lntl/lntl_2h_lr0.01.conf --out runs/lntl_sweep_lr0.01
#   --archive DIR: where published records are looked for (default docs/results/<the --out folder's name>)
set -euo pipefail
cd "$(dirname "$0")/.."

config=experiments/lntl/lntl_2h.conf
runs="0.020:0,0.025:0,0.030:0,0.035:0,0.040:0,0.045:0,0.050:0,0.035:1,0.035:2"
jobs=2 threads=1 bin=build/lntl report_only=0 R=runs/lntl_sweep archive=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="${2:?--config needs a file}"; shift 2 ;;
    --out) R="${2:?--out needs a folder}"; shift 2 ;;
    --runs) runs="${2:?--runs needs var:seed pairs, e.g. 0.035:0,0.035:1}"; shift 2 ;;
    --jobs) jobs="${2:?--jobs needs a count}"; shift 2 ;;
    --threads) threads="${2:?--threads needs a count}"; shift 2 ;;
    --bin) bin="${2:?--bin needs a path}"; shift 2 ;;
    --archive) archive="${2:?--archive needs a folder}"; shift 2 ;;
    --report-only) report_only=1; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lntl_sweep.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -f "$config" ] || { echo "lntl_sweep.sh: --config: $config: no such file" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "lntl_sweep.sh: --jobs: expected a positive integer, got '$jobs'" >&2; exit 2; }
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || { echo "lntl_sweep.sh: --threads: expected a positive integer, got '$threads'" >&2; exit 2; }
IFS=, read -r -a pairs <<< "$runs"
for p in "${pairs[@]}"; do
  [[ "$p" =~ ^0\.[0-9]{3}:[0-9]+$ ]] || { echo "lntl_sweep.sh: --runs: expected var:seed like 0.035:1, got '$p'" >&2; exit 2; }
done
lntl_epochs=$(awk -F'=' '$1 ~ /^lntl-epochs *$/ { gsub(/ /, "", $2); print $2 }' "$config")

run_dir() { echo "$R/var_${1%%:*}_seed_${1#*:}"; }
# Done when results.csv has the LNTL row of the recipe's length, or the run was restored from its record.
finished() {
  [ -f "$1/record.json" ] && [ ! -f "$1/results.csv" ] && return 0
  [ -f "$1/results.csv" ] && awk -F, -v e="$lntl_epochs" '$2 == "lntl" && $5 == e { ok = 1 } END { exit !ok }' "$1/results.csv"
}
# Runs published earlier (docs/results/<out's name>/) whose folders are not here come back as records.
archive=${archive:-docs/results/$(basename "$R")}
for rec in "$archive"/var_*_seed_*/record.json; do
  [ -f "$rec" ] || continue
  d=$R/$(basename "$(dirname "$rec")")
  [ -e "$d" ] || { mkdir -p "$R" && cp -r "$(dirname "$rec")" "$d" && echo "restored: $d (from $rec)"; }
done

if [ "$report_only" = 0 ]; then
  [ -x "$bin" ] || { echo "lntl_sweep.sh: $bin: not built (bash tools/setup.sh)" >&2; exit 2; }
  mkdir -p "$R"
  for p in "${pairs[@]}"; do
    d=$(run_dir "$p")
    if finished "$d"; then echo "done: $d"; continue; fi
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    echo "start: $d (log $d.log)"
    OPENBLAS_NUM_THREADS=1 AMNESIA_THREADS=$threads "$bin" --config "$config" --var "${p%%:*}" --seed "${p#*:}" \
      --resume --device cpu --out "$d" >> "$d.log" 2>&1 &
  done
  wait || true
fi

mkdir -p "$R"
report=$R/REPORT.md
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model\s' /proc/cpuinfo | cut -d: -f2 | tr -d ' '))"
written="$(date -u '+%Y-%m-%d %H:%M UTC') at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || written="$written (with uncommitted changes)"
/usr/bin/python3 - "$R" "$config" "$machine" "$written" > "$report" <<'EOF'
import csv, glob, json, math, os, re, statistics, sys

root, config, machine, written = sys.argv[1:5]
# The official README's unbiased test accuracy (%), DESIGN.md section 8: 100 + 100 epochs, its own palette.
paper = {"0.020": (40.55, 81.85), "0.025": (48.13, 88.54), "0.030": (59.96, 91.37), "0.035": (66.26, 93.06),
         "0.040": (73.33, 94.06), "0.045": (79.73, 95.55), "0.050": (84.50, 96.18)}

# The recipe: the config's key = value lines; a run counts only if its run.json flags match them.
recipe = {}
for line in open(config):
    line = line.split("#", 1)[0].strip()
    if "=" in line:
        key, value = (t.strip() for t in line.split("=", 1))
        recipe[key] = value
lntl_epochs = int(recipe["lntl-epochs"])
# Switches that change the data or the game count even where the recipe leaves them at lntl's default
# (the defaults of `lntl --help`; runs recorded before a switch existed ran its default too).
defaults = {"stroke": "binary", "palette": "substitute", "jitter": "clamp", "g-in-colour-step": "false",
            "h-lr-scale": "1", "h-mask": "channel"}
recipe = {**defaults, **recipe}
compared = [k for k in ("train-images", "epochs", "lntl-epochs", "batch", "lr", "lntl-lr", "lr-step", "lr-gamma",
                        "momentum", "weight-decay", "lambda", "mu", "h-lr-scale", "h-mask", "stroke", "palette",
                        "jitter", "g-in-colour-step")
            if k in recipe]
flag = lambda flags, k: flags.get(k, defaults.get(k, ""))

def same(a, b):
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-6)
    except ValueError:
        return a == b

def checkpoint_meta(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        return json.loads(f.read(n)).get("__metadata__", {})

def measured(d, var, seed):
    """The record of a finished run from its own files, or None while it is unfinished."""
    rows = {r["method"]: r for r in csv.DictReader(open(os.path.join(d, "results.csv")))}
    lntl = rows.get("lntl")
    if "baseline" not in rows or lntl is None or int(lntl["epochs"]) != lntl_epochs:
        return None
    info = json.load(open(os.path.join(d, "run.json")))
    flags = info.get("flags", {})
    log = list(csv.DictReader(open(os.path.join(d, "train_log.csv"))))
    pct = lambda v: round(100 * float(v), 2)  # accuracies are recorded to 4 decimals
    curve = [pct(r["test_accuracy"]) for r in log if r["phase"] == "lntl"]
    # A resumed run's train_log.csv holds only its last process's epochs; the checkpoint holds them all.
    lntl_ckpt = os.path.join(d, f"var_{var}", "lntl.safetensors")
    saved = checkpoint_meta(lntl_ckpt).get("accuracy_per_epoch", "") if os.path.isfile(lntl_ckpt) else ""
    if saved and len(saved.split(",")) == lntl_epochs:
        curve = [round(float(a), 2) for a in saved.split(",")]
    best = max(range(len(curve)), key=lambda i: curve[i])
    threads = info.get("threads", {})
    base_s = float(rows["baseline"]["seconds"])
    if flags.get("reuse-baseline") == "true":
        # A reused baseline: its own training time, which checkpoints record since 2026-12-01 06:00.
        meta = checkpoint_meta(os.path.join(d, f"var_{var}", "baseline.safetensors"))
        base_s = float(meta["seconds"]) if "seconds" in meta else None
    return dict(var=var, seed=seed, base=pct(rows["baseline"]["test_accuracy"]), base_s=base_s,
                final=pct(lntl["test_accuracy"]), colour=pct(lntl["colour_agreement"]),
                best=curve[best], best_epoch=best + 1, lntl_s=float(lntl["seconds"]), lntl_curve=curve,
                commit=info.get("commit", "?")[:7] + ("-dirty" if info.get("commit", "").endswith("-dirty") else ""),
                threads=threads.get("engine", threads.get("openblas", "?")), flags={k: flag(flags, k) for k in compared},
                machine=machine, source="its run folder")

def counted(name, flags):
    differ = [k for k in compared if not same(flag(flags, k), recipe[k])]
    if differ:
        excluded.append((name, ", ".join(f"{k} {flag(flags, k)}" for k in differ)))
    return not differ

runs, excluded = [], []
for d in sorted(glob.glob(os.path.join(root, "var_*_seed_*"))):
    m = re.fullmatch(r"var_(0\.\d{3})_seed_(\d+)", os.path.basename(d))
    if not m or not os.path.isdir(d):
        continue
    name = os.path.basename(d)
    if os.path.isfile(os.path.join(d, "results.csv")):
        r = measured(d, m.group(1), int(m.group(2)))
        if r is None or not counted(name, r["flags"]):
            continue
        with open(os.path.join(d, "record.json"), "w") as f:
            json.dump(r, f, indent=1)
    elif os.path.isfile(os.path.join(d, "record.json")):
        r = json.load(open(os.path.join(d, "record.json")))
        if not counted(name, r["flags"]):
            continue
        r["source"] = "committed record: " + r["source"]
    else:
        continue
    r["dir"] = name
    runs.append(r)

def spread(values):
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"

def seconds(s):
    return "not recorded" if s is None else f"{s:.0f} s"

print("# Learning Not to Learn on Colored MNIST: the paper's table, 2-hour recipe\n")
print("<!-- summary:begin -->")
r = recipe
print(f"Written by `bash tools/lntl_sweep.sh --config {config}` {written} from {len(runs)} finished run(s) (each run's "
      f"own commit is in the table of every run below) on {machine}. Every run is `lntl --config {config} --var V "
      f"--seed S` (engine threads: the table of every run): {r.get('train-images')} training images, baseline {r.get('epochs')} epochs at lr "
      f"{r.get('lr')}, LNTL {r.get('lntl-epochs')} epochs at lr {r.get('lntl-lr')} (x{r.get('lr-gamma')} every "
      f"{r.get('lr-step')} epochs), lambda {r.get('lambda')}, mu {r.get('mu')}, h's mask {r.get('h-mask')}. Unbiased test accuracy in %; the "
      "paper's numbers are the official README's (100 + 100 epochs, its own palette); ours use "
      + ("the substitute palette of DESIGN.md" if r["palette"] == "substitute" else
         "the official palette as estimated from published samples (`--palette estimated`)")
      + (", jitter resampled into [0, 1] (`--jitter resample`)" if r["jitter"] == "resample" else "")
      + ". Where a variance has several seeds: mean ± sample sd. \"best epoch\" is the highest "
      "per-epoch test accuracy, shown for the curve's shape only (picking it would select on the test set); the "
      "final one is the result.\n")
print("| var | paper: baseline | ours: baseline | paper: LNTL | ours: LNTL final | ours: LNTL best epoch | seeds |")
print("|---|---|---|---|---|---|---|")
for var in sorted(paper):
    at = [r for r in runs if r["var"] == var]
    pb, pl = paper[var]
    if not at:
        print(f"| {var} | {pb:.2f} | not run yet | {pl:.2f} | not run yet | | |")
        continue
    print(f"| {var} | {pb:.2f} | {spread([r['base'] for r in at])} | {pl:.2f} | **{spread([r['final'] for r in at])}** | "
          f"{spread([r['best'] for r in at])} | {', '.join(str(r['seed']) for r in sorted(at, key=lambda r: r['seed']))} |")
print()
def figure(r, name, what):
    path = f"{r['dir']}/var_{r['var']}/{name}.png"
    if os.path.isfile(os.path.join(root, path)):  # runs made before 2026-12-01 03:00 have no learning curves
        print(f"![{what}, var {r['var']} seed {r['seed']}]({path})")

# The README's figures: the first seed at 0.035 that has all three.
at_035 = sorted((r for r in runs if r["var"] == "0.035"), key=lambda r: r["seed"])
with_curves = [r for r in at_035 if os.path.isfile(os.path.join(root, r["dir"], "var_0.035", "learning_curves.png"))]
for r in with_curves[:1]:
    figure(r, "learning_curves", "learning curves")
    figure(r, "confusion_baseline", "confusion, baseline")
    figure(r, "confusion_lntl", "confusion, LNTL final")
    figure(r, "accuracy_by_gray_lntl", "gray probe (accuracy per true digit x stroke gray level), LNTL final")
print("<!-- summary:end -->\n")
print("## Every run\n")
print("A run whose folder is not on this machine (an earlier session's) counts through the record.json that "
      "tools/publish_report.sh committed beside this report; \"numbers from\" says which. "
      "Wall times are each phase's own (a baseline reused by a later run keeps the time of the run that trained it; "
      "\"not recorded\" where its checkpoint predates that record). The commit is the one run.json names "
      "(-dirty: built from a working tree with uncommitted changes).\n")
print("| run | var | seed | baseline | LNTL final | LNTL best (epoch) | final: predictions = colour's class | "
      "wall: baseline | wall: LNTL | commit | engine threads | machine | numbers from |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in sorted(runs, key=lambda r: (r["var"], r["seed"])):
    print(f"| {r['dir']} | {r['var']} | {r['seed']} | {r['base']:.2f} | {r['final']:.2f} | {r['best']:.2f} ({r['best_epoch']}) | "
          f"{r['colour']:.2f} | {seconds(r['base_s'])} | {seconds(r['lntl_s'])} | {r['commit']} | {r['threads']} | "
          f"{r['machine']} | {r['source']} |")
print()
for d, why in excluded:
    print(f"Not counted: {d} (its flags differ from the config: {why}).\n")
for r in sorted(runs, key=lambda r: (r["var"], r["seed"])):
    figure(r, "learning_curves", "learning curves")
    figure(r, "accuracy_by_colour_baseline", "accuracy per true digit x painted colour, baseline")
    figure(r, "accuracy_by_colour_lntl", "accuracy per true digit x painted colour, LNTL final")
    figure(r, "accuracy_by_gray_baseline", "accuracy per true digit x stroke gray level, baseline")
    figure(r, "accuracy_by_gray_lntl", "accuracy per true digit x stroke gray level, LNTL final")
EOF
echo "wrote $report"
