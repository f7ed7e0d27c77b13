#!/usr/bin/env bash
# Run HERE (the dev machine) before the one device call of the GPU kit: fills .carry/ (git-ignored) with
# what the GPU machine cannot fetch itself, since it reaches no registry: the gzipped datasets, the
# doctest and stb headers, zlib's headers + static library (in case its image lacks zlib's -dev files),
# and the commit the working tree is at (the machine gets no .git). Then call the device tool with
# carry [".carry"] and `bash tools/gpu_check.sh` (timeout_s 570), and copy $OUT/RESULTS.md over
# bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f data/mnist/train-images-idx3-ubyte ] || [ -f data/mnist/train-images-idx3-ubyte.gz ] || bash data/fetch.sh
mkdir -p .carry/data/mnist .carry/data/fashion .carry/include/stb
for f in data/mnist/*-ubyte data/mnist/*-ubyte.gz data/fashion/*-ubyte data/fashion/*-ubyte.gz; do
  [ -f "$f" ] || continue
  out=".carry/$f"; case "$out" in *.gz) ;; *) out="$out.gz" ;; esac
  [ -f "$out" ] || { case "$f" in *.gz) cp "$f" "$out" ;; *) gzip -9 -c "$f" > "$out" ;; esac; }
done
cp -r /usr/include/doctest .carry/include/
cp /usr/include/stb/stb_image_write.h .carry/include/stb/
if [ ! -f .carry/zlib/usr/include/zlib.h ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download zlib1g-dev >/dev/null)
  dpkg-deb -x "$tmp"/zlib1g-dev_*.deb .carry/zlib
  rm -rf "$tmp"
fi
echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench' 2>/dev/null || echo '+uncommitted')" > .carry/commit.txt
bash -n tools/gpu_check.sh  # a syntax error would cost a device call
du -sh .carry
