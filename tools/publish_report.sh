#!/usr/bin/env bash
# Publishes a run_all.sh report: copies runs/<preset>/REPORT.md and every figure it links into
# docs/results/<preset>/ (committed, so the links work on GitHub), and rewrites the README's block
# between the markers <!-- results:<preset>:begin --> and <!-- results:<preset>:end --> with the
# report's header, its summary table and a few of its figures. The README's results are therefore
# copied from a named report, never typed by hand.
#   bash tools/publish_report.sh [--preset quick|full]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=quick
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) preset="${2:?--preset needs quick or full}"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "publish_report.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
src=runs/$preset dst=docs/results/$preset
[ -f "$src/REPORT.md" ] || { echo "publish_report.sh: $src/REPORT.md: no report (bash tools/run_all.sh --preset $preset)" >&2; exit 2; }
begin="<!-- results:$preset:begin" end="<!-- results:$preset:end -->"
grep -q "^$begin" README.md && grep -q "^$end" README.md ||
  { echo "publish_report.sh: README.md: no '$begin -->' ... '$end' block to fill" >&2; exit 2; }

rm -rf "$dst"
mkdir -p "$dst"
cp "$src/REPORT.md" "$dst/REPORT.md"
grep -o '](\([^)]*\.png\))' "$src/REPORT.md" | sed 's/^](//; s/)$//' | while read -r png; do
  mkdir -p "$dst/$(dirname "$png")"
  cp "$src/$png" "$dst/$png"
done

# The figures the README shows, when the report has them (the rest are one click away).
shown=(forget_01/samples_after.png forget_01/morph.png grayout_9/attack.png latent/tsne_forget_0.png
       latent/tsne_sa_train_nolabel.png mae/recon_before_after.png cf_vae/recon_curves.png
       lntl/var_0.035/learning_curves.png lntl/var_0.035/confusion_lntl.png)
block=$(mktemp)
trap 'rm -f "$block"' EXIT
{
  echo "$begin (written by tools/publish_report.sh from $src/REPORT.md; do not edit by hand) -->"
  echo "From [\`$dst/REPORT.md\`]($dst/REPORT.md), written by \`bash tools/run_all.sh --preset $preset\`"
  echo "(every stage's command, tables and figures are there). $(sed -n 3,3p "$src/REPORT.md" | sed 's/;$//')"
  echo "$(grep -o 'The stages.*' "$src/REPORT.md" | head -1)"
  echo
  awk '/^\| study \| stage \| finding \|/ { on = 1 } on && /^$/ { exit } on' "$src/REPORT.md"
  echo
  for png in "${shown[@]}"; do
    [ -f "$dst/$png" ] && echo "![$png]($dst/$png)"
  done
  echo "$end"
} > "$block"
awk -v begin="$begin" -v end="$end" -v block="$block" '
  index($0, begin) == 1 { while ((getline line < block) > 0) print line; skip = 1; next }
  index($0, end) == 1 { skip = 0; next }
  !skip' README.md > README.md.tmp && mv README.md.tmp README.md
echo "published $src/REPORT.md to $dst/ ($(find "$dst" -name '*.png' | wc -l) figures) and README.md's results:$preset block"
