#!/usr/bin/env bash
# A full-size site's load: 64 cameras at 8 Mbit/s each (64 MB/s together) for 10
# minutes through the live path, beside the same recorder alone (docs/benchmarks.md).
#
#   scripts/bench-load.sh                      the native build, full size
#   scripts/bench-load.sh --wine               the Windows build under Wine, 8 cameras, 3 minutes
#   scripts/bench-load.sh --cameras 16 --secs 120
#
# Writes /tmp/cctv-mirror-load/load.json. Needs about 8 GB free under /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--wine" ]; then
  shift
  source scripts/wine-env.sh
  wine_setup
  "$wineserver" -p
  cargo build --release --quiet --target x86_64-pc-windows-gnu --bin cctv-mirror
  cargo build --release --quiet --example load
  exec target/release/examples/load --wine "$wine" --daemon target/x86_64-pc-windows-gnu/release/cctv-mirror.exe \
    --cameras 8 --secs 180 --out /tmp/cctv-mirror-load-wine "$@"
fi
cargo build --release --quiet --bin cctv-mirror --example load
exec target/release/examples/load --daemon target/release/cctv-mirror "$@"
