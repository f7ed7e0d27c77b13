#!/usr/bin/env bash
# Publishes a report: copies runs/<name>/REPORT.md and every figure it links into docs/results/<name>/
# (committed, so the links work on GitHub), and rewrites the README's block between the markers
# <!-- results:<name>:begin --> and <!-- results:<name>:end --> with the report's summary (the part
# between its <!-- summary:begin --> and <!-- summary:end --> lines: which command wrote it, when, at
# which commit on which machine, its table and figures), links pointed at the copy. The README's results
# are therefore copied from a named report, never typed by hand.
#   bash tools/publish_report.sh [--preset NAME]   # quick (default) or full: tools/run_all.sh;
#                                                  # lntl_sweep: tools/lntl_sweep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
name=quick
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) name="${2:?--preset needs a report name: quick, full or lntl_sweep}"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "publish_report.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$name" =~ ^[a-z0-9_][a-z0-9_.-]*$ && "$name" != *..* ]] || { echo "publish_report.sh: --preset: expected a name like quick or lntl_sweep, got '$name'" >&2; exit 2; }
src=runs/$name dst=docs/results/$name
[ -f "$src/REPORT.md" ] || { echo "publish_report.sh: $src/REPORT.md: no report" >&2; exit 2; }
grep -q '^<!-- summary:begin -->' "$src/REPORT.md" && grep -q '^<!-- summary:end -->' "$src/REPORT.md" ||
  { echo "publish_report.sh: $src/REPORT.md: no <!-- summary:begin --> ... <!-- summary:end --> part to publish" >&2; exit 2; }
begin="<!-- results:$name:begin" end="<!-- results:$name:end -->"
grep -q "^$begin" README.md && grep -q "^$end" README.md ||
  { echo "publish_report.sh: README.md: no '$begin -->' ... '$end' block to fill" >&2; exit 2; }

rm -rf "$dst"
mkdir -p "$dst"
cp "$src/REPORT.md" "$dst/REPORT.md"
grep -o '](\([^)]*\.png\))' "$src/REPORT.md" | sed 's/^](//; s/)$//' | sort -u | while read -r png; do
  mkdir -p "$dst/$(dirname "$png")"
  cp "$src/$png" "$dst/$png"
done

# A run's record.json (tools/lntl_sweep.sh) travels with its report, so the run counts on another machine.
find "$src" -mindepth 2 -maxdepth 2 -name record.json | while read -r rec; do
  mkdir -p "$dst/$(dirname "${rec#"$src"/}")"
  cp "$rec" "$dst/${rec#"$src"/}"
done

block=$(mktemp)
trap 'rm -f "$block"' EXIT
{
  echo "$begin (written by tools/publish_report.sh from $src/REPORT.md; do not edit by hand) -->"
  echo "From [\`$dst/REPORT.md\`]($dst/REPORT.md), the whole report with every run's details."
  awk '/^<!-- summary:end -->/ { exit } on; /^<!-- summary:begin -->/ { on = 1 }' "$src/REPORT.md" |
    sed "s#](\([^)/][^)]*\.png\))#]($dst/\1)#g"
  echo "$end"
} > "$block"
awk -v begin="$begin" -v end="$end" -v block="$block" '
  index($0, begin) == 1 { while ((getline line < block) > 0) print line; skip = 1; next }
  index($0, end) == 1 { skip = 0; next }
  !skip' README.md > README.md.tmp && mv README.md.tmp README.md
echo "published $src/REPORT.md to $dst/ ($(find "$dst" -name '*.png' | wc -l) figures) and README.md's results:$name block"
