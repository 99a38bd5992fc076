#!/usr/bin/env bash
# Measures the proof commands:
#   - `report` over a 31-day backup of 23,808 recordings (32 channels x 24 per day),
#     and the coverage step of the pass that made it (its log line's duration_ms);
#   - `verify`'s read speed beside `cat FILES > /dev/null` on the same 2 GiB of
#     recordings (16 files of 128 MiB of DHAV frames), each with the page cache dropped
#     first (cold: the disk's speed) and again with the files cached (warm: the CPU's).
# Usage: scripts/bench-proof.sh [WORKDIR]   (default /tmp/cctv-proof; needs about 3 GB)
# Needs root to drop the page cache (else the cold figures are warm). Prints one line
# per measurement; each figure is the median of RUNS runs (default 5). Speed is
# measured here, never asserted in a test.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/cctv-proof}
RUNS=${RUNS:-5}
cargo build --release -q
BIN=$PWD/target/release/cctv-mirror
rm -rf "$W" && mkdir -p "$W"
echo "machine: $(nproc) cores, $(uname -sr), $(df -T "$W" | awk 'NR==2 {print $2}') at $W; $(date -u +%Y-%m-%d)"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() { # prints seconds taken by "$@"
  local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc -l
}
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
config() { # config DIR
  printf '{"source_dir":"%s/source","backup_dir":"%s/backup","log_dir":"%s/logs","scrub_days":0}\n' "$1" "$1" "$1" > "$1/config.json"
}

# 1. report on 23,808 recordings.
T=$W/report; mkdir -p "$T"; config "$T"
python3 - "$T/source" <<'PY'
import os, sys, datetime, time
root = sys.argv[1]
today = datetime.date.today()
old = time.time() - 3600
for d in range(31):
    day = today - datetime.timedelta(days=d)
    for ch in range(1, 33):
        folder = os.path.join(root, day.strftime("%Y/%m/%d"), f"ch{ch:02d}")
        os.makedirs(folder, exist_ok=True)
        for h in range(24):
            p = os.path.join(folder, f"{h:02d}.00.00-{h:02d}.59.59[R][0@0][0].dav")
            with open(p, "wb") as f:
                f.write(b"DHAV" + bytes(60))
            os.utime(p, (old, old))
PY
"$BIN" run --once --config "$T/config.json" >/dev/null 2>&1
n=$(find "$T/backup" -name '*.dav' | wc -l)
step=$(grep -h "coverage:" -r "$T/logs" | grep -o 'duration_ms=[0-9]*' | tail -1)
for f in text json html; do
  t=$(for i in $(seq "$RUNS"); do timed "$BIN" report --config "$T/config.json" --format $f; done | median)
  echo "report --format $f over $n recordings: $t s (median of $RUNS)"
done
echo "the pass's coverage step on the same listing: $step"

# 2. verify beside cat on 2 GiB.
V=$W/verify; mkdir -p "$V"; config "$V"
python3 - "$V/source" <<'PY'
import os, sys, struct, datetime, time
root = sys.argv[1]
day = datetime.date.today() - datetime.timedelta(days=1)
frame_len = 64 * 1024
def pack(t):
    return ((t.year - 2000) & 0x3f) << 26 | t.month << 22 | t.day << 17 | t.hour << 12 | t.minute << 6 | t.second
body = bytes(range(256)) * (frame_len // 256)
old = time.time() - 3600
for ch in range(1, 17):
    folder = os.path.join(root, day.strftime("%Y/%m/%d"), f"ch{ch:02d}")
    os.makedirs(folder, exist_ok=True)
    p = os.path.join(folder, "08.00.00-08.59.59[R][0@0][0].dav")
    t0 = datetime.datetime.combine(day, datetime.time(8))
    with open(p, "wb") as f:
        for i in range(2048):  # 2048 x 64 KiB = 128 MiB
            t = t0 + datetime.timedelta(seconds=i * 3600 // 2048)
            fr = bytearray(body)
            fr[0:4] = b"DHAV"; fr[12:16] = struct.pack("<I", frame_len); fr[16:20] = struct.pack("<I", pack(t))
            fr[-8:-4] = b"dhav"; fr[-4:] = struct.pack("<I", frame_len)
            f.write(fr)
    os.utime(p, (old, old))
PY
"$BIN" run --once --config "$V/config.json" >/dev/null 2>&1
bytes=$(find "$V/backup" -name '*.dav' -printf '%s\n' | awk '{s+=$1} END {printf "%d\n", s}')
rate() { echo "scale=1; $bytes / $1 / 1048576" | bc -l; }
for mode in cold warm; do
  c=(); v=()
  for i in $(seq "$RUNS"); do
    [ $mode = cold ] && drop; c+=("$(timed sh -c "find '$V/backup' -name '*.dav' -print0 | xargs -0 cat > /dev/null")")
    [ $mode = cold ] && drop; v+=("$(timed "$BIN" verify --config "$V/config.json")")
  done
  ct=$(printf '%s\n' "${c[@]}" | median); vt=$(printf '%s\n' "${v[@]}" | median)
  echo "$mode, $((bytes / 1048576)) MiB in 16 files: cat $ct s ($(rate "$ct") MiB/s), verify $vt s ($(rate "$vt") MiB/s) (median of $RUNS)"
done
