#!/usr/bin/env bash
# Holds the Windows build to the tests, under Wine: the lib's unit tests built for
# Windows, then the watcher, in-progress, daemon, path-and-link, long-name and service
# integration tests driving cctv-mirror.exe (the only way to exercise, on Linux, the
# path where the OS reports no close event, the Windows path rules, and the Windows
# service manager). `.ci/run` runs it; it needs a cross-compiler, Wine and a few minutes.
#
#   scripts/wine-tests.sh [extra cargo test filters...]
#
# Installs (as root, with apt) what it needs: the Rust target x86_64-pc-windows-gnu,
# gcc-mingw-w64-x86-64, wine64. Uses its own Wine prefix ($WINEPREFIX, default
# ~/.wine-cctv-mirror) with a stand-in bcryptprimitives.dll (scripts/wine-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/wine-env.sh
wine_setup

echo "== building the Windows binaries"
cargo build --release --target x86_64-pc-windows-gnu
exe="$PWD/target/x86_64-pc-windows-gnu/release/cctv-mirror.exe"
# A recorder stand-in that holds its file open (see scripts/wine/hold-writer.c).
writer="$PWD/target/x86_64-pc-windows-gnu/hold-writer.exe"
x86_64-w64-mingw32-gcc -O2 -o "$writer" scripts/wine/hold-writer.c

# A fresh, persistent wineserver shared by the tests; the service test reads the
# Event Log entries back from $events.
events="$(mktemp -d)/wine-events.log"
wine_server_start "$events"
"$wine" "$exe" --version

echo "== the unit tests, built for Windows, under Wine"
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine" \
  cargo test --release --target x86_64-pc-windows-gnu --lib

echo "== the integration tests, driving $exe under Wine"
# One test at a time: Wine is slow enough on two cores that parallel tests starve the
# 5,000-file burst.
status=0
CCTV_MIRROR_TEST_EXE="$exe" CCTV_MIRROR_TEST_RUNNER="$wine" CCTV_MIRROR_TEST_WINE_EVENTS="$events" \
  CCTV_MIRROR_TEST_HOLD_WRITER="$writer" \
  cargo test --test it -- --test-threads=1 watch:: live:: liveness:: monitoring:: daemon:: demo:: sample:: secrets:: coverage:: export:: verify:: status:: paths:: service:: alerts:: notify:: names:: \
  offsite::check_reads offsite::a_bad_offsite_key offsite_daemon:: offsite_site:: restore:: encrypted:: large:: init_config:: version:: "$@" || status=$?
wine_server_stop
exit $status
