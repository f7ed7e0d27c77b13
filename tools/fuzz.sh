#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ (safetensors, IDX raw and gzip, config files, command lines),
# built with clang under AddressSanitizer and UndefinedBehaviorSanitizer into build-fuzz/.
#   bash tools/fuzz.sh               build, then replay each target's committed corpus (a few seconds)
#   bash tools/fuzz.sh --seconds N   also fuzz each target for N seconds, starting from its corpus
# New inputs found while fuzzing go to build-fuzz/corpus/<target>/ (the committed corpus is not
# touched); a crashing input is saved as build-fuzz/crash-<target>-*, to add to the corpus once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    *) echo "usage: bash tools/fuzz.sh [--seconds N]" >&2; exit 2 ;;
  esac
done
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds: expected a whole number, got '$seconds'" >&2; exit 2; }
CXX="${FUZZ_CXX:-clang++}"
command -v "$CXX" >/dev/null 2>&1 || { echo "fuzz.sh: $CXX not found (apt-get install clang)" >&2; exit 2; }

out=build-fuzz
mkdir -p "$out/obj"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
flags="-std=c++17 -O1 -g -fno-omit-frame-pointer -I. -I/usr/include/stb"
# The engine files the targets reach, instrumented for coverage (fuzzer-no-link) and the sanitizers.
sources="engine/safetensors.cpp engine/json.cpp engine/text.cpp engine/idx.cpp engine/config.cpp engine/cli.cpp"
objects=()
for src in $sources; do
  obj="$out/obj/$(basename "$src" .cpp).o"
  if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find engine -name '*.h' -newer "$obj" -print -quit)" ]; then
    $CXX $flags $san -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
  fi
  objects+=("$obj")
done
targets=(safetensors idx config cli)
for t in "${targets[@]}"; do
  $CXX $flags $san -fsanitize=fuzzer "tests/fuzz/fuzz_$t.cpp" "${objects[@]}" -lz -o "$out/fuzz_$t"
done

# -close_fd_mask=1 silences the targets' stdout (--help prints the usage); -timeout flags a hang.
for t in "${targets[@]}"; do
  echo "fuzz.sh: replaying tests/fuzz/corpus/$t ($(ls "tests/fuzz/corpus/$t" | wc -l) inputs)"
  "$out/fuzz_$t" -close_fd_mask=1 -timeout=10 "tests/fuzz/corpus/$t"/* 2>"$out/replay_$t.log" ||
    { tail -40 "$out/replay_$t.log" >&2; echo "fuzz.sh: $t failed on its corpus" >&2; exit 1; }
done
[ "$seconds" -eq 0 ] && { echo "fuzz.sh: every corpus replays clean"; exit 0; }

for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t"
  echo "fuzz.sh: fuzzing $t for $seconds s"
  "$out/fuzz_$t" -close_fd_mask=1 -timeout=10 -max_len=8192 -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$out/crash-$t-" "$out/corpus/$t" "tests/fuzz/corpus/$t" 2>"$out/fuzz_$t.log" ||
    { tail -60 "$out/fuzz_$t.log" >&2; echo "fuzz.sh: $t crashed; the input is in $out/crash-$t-*" >&2; exit 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/fuzz_$t.log" | tr '\n' ' '; echo
done
echo "fuzz.sh: every corpus replays clean and $seconds s of fuzzing per target found nothing"
