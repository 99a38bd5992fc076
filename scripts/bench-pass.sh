#!/usr/bin/env bash
# Measures what a pass costs, beside rsync -a on the same trees in the same run:
#   - a first backfill (every recording copied) and a no-op pass (nothing to do) over
#     31-day trees of 23,808, 49,600 and 99,200 small recordings, with the peak memory;
#   - the first copy of one 1 GiB recording (page cache dropped before each run).
# Usage: scripts/bench-pass.sh [WORKDIR]   (default /tmp/cctv-bench; needs about 2 GB)
# Needs rsync, bc, GNU time (/usr/bin/time). Prints one line per measurement; no-op
# figures are the median of RUNS runs (default 5). Speed is measured here, never
# asserted in a test.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/cctv-bench}
RUNS=${RUNS:-5}
cargo build --release -q
BIN=$PWD/target/release/cctv-mirror
rm -rf "$W" && mkdir -p "$W"
echo "machine: $(nproc) cores, $(uname -sr), $(df -T "$W" | awk 'NR==2 {print $2}') at $W; $(date -u +%Y-%m-%d)"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() { # prints seconds taken by "$@"
  local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc -l
}
config() { # config DIR
  printf '{"source_dir":"%s/source","backup_dir":"%s/backup","log_dir":"%s/logs"}\n' "$1" "$1" "$1" > "$1/config.json"
}
warm() { find "$1" -type f -print0 | xargs -0 cat > /dev/null; }
tree() { # tree DIR CHANNELS FILES_PER_CHANNEL: 31 days of small recordings
  python3 scripts/bench-tree.py "$1/source" "$2" "$3"
}

for shape in "32 24" "64 25" "64 50"; do
  set -- $shape
  T=$W/tree-$1-$2; mkdir -p "$T"; config "$T"; tree "$T" "$1" "$2"
  n=$(find "$T/source" -type f | wc -l)
  echo "== $n recordings (31 days x $1 channels x $2 files)"
  # The disk of a virtual machine varies from one minute to the next: each tool copies
  # the tree twice, in the order ours, rsync, rsync, ours, each into an empty folder
  # with the source in the page cache, and the faster of its two runs counts.
  ours=(); theirs=()
  for round in 1 2; do
    for tool in $([ $round = 1 ] && echo "ours rsync" || echo "rsync ours"); do
      rm -rf "$T/backup" "$T/logs" "$T/rsync"; sync; warm "$T/source"
      if [ $tool = ours ]; then ours+=("$(timed "$BIN" run --once --config "$T/config.json")")
      else theirs+=("$(timed rsync -a "$T/source/" "$T/rsync/")"); fi
    done
  done
  a=$(printf '%s\n' "${ours[@]}" | sort -n | head -1); b=$(printf '%s\n' "${theirs[@]}" | sort -n | head -1)
  printf '  first backfill:  cctv-mirror %.2f s (%s)   rsync -a %.2f s (%s)   ratio %.2f\n' "$a" "$(printf '%.2f ' "${ours[@]}")" "$b" "$(printf '%.2f ' "${theirs[@]}")" "$(echo "$a / $b" | bc -l)"
  echo "  (rsync does not flush; cctv-mirror's time includes making every copy durable)"
  rsync -a "$T/source/" "$T/rsync/"
  a=$(for i in $(seq "$RUNS"); do timed "$BIN" run --once --config "$T/config.json"; done | median)
  b=$(for i in $(seq "$RUNS"); do timed rsync -a "$T/source/" "$T/rsync/"; done | median)
  printf '  no-op pass:      cctv-mirror %.3f s  rsync -a %.3f s  ratio %.2f (median of %s)\n' "$a" "$b" "$(echo "$a / $b" | bc -l)" "$RUNS"
  /usr/bin/time -f '  no-op pass peak RSS: %M KiB' "$BIN" run --once --config "$T/config.json" 2>&1 >/dev/null | tail -1
  rm -rf "$T"
done

echo "== one 1 GiB recording, first copy (page cache dropped before each run where allowed)"
B=$W/big; mkdir -p "$B/source/$(date +%Y/%m/%d)"; config "$B"
F="$B/source/$(date +%Y/%m/%d)/big.dav"
head -c $((1 << 30)) /dev/urandom > "$F"
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
for i in $(seq 3); do rm -rf "$B/backup" "$B/logs"; drop; timed "$BIN" run --once --config "$B/config.json"; done | median | xargs printf '  cctv-mirror %.3f s' 
for i in $(seq 3); do rm -rf "$B/rsync"; drop; timed rsync -a "$B/source/" "$B/rsync/"; done | median | xargs printf '   rsync -a %.3f s'
for i in $(seq 3); do rm -f "$B/cp.dav"; drop; timed cp "$F" "$B/cp.dav"; done | median | xargs printf '   cp %.3f s (median of 3)\n'
rm -rf "$W"
