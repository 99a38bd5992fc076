#!/usr/bin/env bash
# The daemon's peak resident memory (VmHWM of the daemon itself, with its watcher) over
# 31-day trees of 23,808, 49,600 and 99,200 small recordings, already in the backup:
#   warm: log_dir kept from a first `run --once` (coverage and spans known);
#   cold: a fresh log_dir, so the first pass also builds the coverage and runs the
#         night's verification of one slice.
# Usage: scripts/bench-daemon-memory.sh [WORKDIR]   (default /tmp/cctv-bench-mem)
# Prints one line per tree and start. Measured here, never asserted in a test.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/cctv-bench-mem}
cargo build --release -q
BIN=$PWD/target/release/cctv-mirror
rm -rf "$W" && mkdir -p "$W"
echo "machine: $(nproc) cores, $(uname -sr); $(date -u +%Y-%m-%d)"

tree() { # tree DIR CHANNELS FILES_PER_CHANNEL: 31 days of small, finished recordings
  python3 scripts/bench-tree.py "$1/source" "$2" "$3" --aged
}

# daemon DIR: starts it, waits until its first pass and upkeep are done, prints VmHWM
# and VmRSS in KiB, and stops it.
daemon() {
  "$BIN" run --config "$1/config.json" >"$1/daemon.out" 2>&1 &
  local pid=$! i
  for i in $(seq 1 600); do
    grep -q '"state": "running"' "$1/logs/status.json" 2>/dev/null && grep -q "coverage:" "$1/daemon.out" && break
    sleep 0.5
  done
  sleep 15 # the night's verification, when due, runs after the pass
  awk '/VmHWM|VmRSS/ {printf "%s %s KiB  ", $1, $2}' "/proc/$pid/status"
  kill -TERM $pid; wait $pid || true
}

for shape in "32 24" "64 25" "64 50"; do
  set -- $shape
  T=$W/tree-$1-$2; mkdir -p "$T"
  printf '{"source_dir":"%s/source","backup_dir":"%s/backup","log_dir":"%s/logs"}\n' "$T" "$T" "$T" >"$T/config.json"
  tree "$T" "$1" "$2"
  n=$(find "$T/source" -type f | wc -l)
  "$BIN" run --once --config "$T/config.json" >/dev/null 2>&1
  echo "$n recordings, warm: $(daemon "$T")"
  rm -rf "$T/logs"
  echo "$n recordings, cold: $(daemon "$T")"
  rm -rf "$T"
done
