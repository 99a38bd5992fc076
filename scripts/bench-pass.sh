#!/usr/bin/env bash
# Measures what a pass costs: a no-op pass over a 31-day x 32-channel x 24-file tree
# (23,808 recordings) and the first copy of one 1 GiB recording, beside rsync -a on the
# same trees. Usage: scripts/bench-pass.sh [WORKDIR]   (default /tmp/cctv-bench)
# Needs rsync. Prints one line per measurement; the median of RUNS runs.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/cctv-bench}
RUNS=${RUNS:-5}
cargo build --release -q
BIN=$PWD/target/release/cctv-mirror
rm -rf "$W" && mkdir -p "$W"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() { # prints seconds taken by "$@"
  local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc -l
}
config() { # config DIR
  printf '{"source_dir":"%s/source","backup_dir":"%s/backup","log_dir":"%s/logs","copy_workers":2}\n' "$1" "$1" "$1" > "$1/config.json"
}

echo "== tree: 31 days x 32 channels x 24 files"
T=$W/tree; mkdir -p "$T/source"; config "$T"
python3 - "$T/source" <<'PY'
import os, sys, datetime
root = sys.argv[1]
today = datetime.date.today()
for d in range(31):
    day = today - datetime.timedelta(days=d)
    for ch in range(1, 33):
        folder = os.path.join(root, day.strftime("%Y/%m/%d"), f"ch{ch:02d}")
        os.makedirs(folder, exist_ok=True)
        for h in range(24):
            with open(os.path.join(folder, f"{h:02d}.00.00-{h:02d}.59.59[R][0@0][0].dav"), "wb") as f:
                f.write(b"DHAV" + bytes(60))
PY
echo "files: $(find "$T/source" -type f | wc -l)"
echo "first pass (copies all): $(timed "$BIN" run --once --config "$T/config.json") s"
m=$(for i in $(seq "$RUNS"); do timed "$BIN" run --once --config "$T/config.json"; done | median)
printf 'no-op pass, cctv-mirror run --once: %.3f s (median of %s)\n' "$m" "$RUNS"
rsync -a "$T/source/" "$T/rsync/"
m=$(for i in $(seq "$RUNS"); do timed rsync -a "$T/source/" "$T/rsync/"; done | median)
printf 'no-op, rsync -a:                     %.3f s (median of %s)\n' "$m" "$RUNS"
grep -h "pass finished" $(ls "$T"/logs/*/*/*/*.log | sort | tail -1) | sed 's/^/last pass log: /'

echo "== one 1 GiB recording, first copy (page cache dropped before each run where allowed)"
B=$W/big; mkdir -p "$B/source/$(date +%Y/%m/%d)"; config "$B"
F="$B/source/$(date +%Y/%m/%d)/big.dav"
head -c $((1 << 30)) /dev/urandom > "$F"
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
for i in $(seq 3); do rm -rf "$B/backup" "$B/logs"; drop; timed "$BIN" run --once --config "$B/config.json"; done | median | xargs printf 'cctv-mirror first copy of 1 GiB: %.3f s (median of 3)\n'
for i in $(seq 3); do rm -rf "$B/rsync"; drop; timed rsync -a "$B/source/" "$B/rsync/"; done | median | xargs printf 'rsync -a of the same:            %.3f s (median of 3)\n'
for i in $(seq 3); do rm -f "$B/cp.dav"; drop; timed cp "$F" "$B/cp.dav"; done | median | xargs printf 'cp of the same:                  %.3f s (median of 3)\n'
echo "peak memory of a no-op pass over the tree:"
/usr/bin/time -f '  max RSS %M KiB, %e s' "$BIN" run --once --config "$T/config.json" 2>&1 >/dev/null | tail -1
rm -rf "$W"
