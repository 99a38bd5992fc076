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
# ~/.wine-cctv-mirror) with a stand-in bcryptprimitives.dll (see scripts/wine/).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v x86_64-w64-mingw32-gcc >/dev/null || need_apt+=(gcc-mingw-w64-x86-64)
[ -x /usr/lib/wine/wine64 ] || need_apt+=(wine64)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
rustup target list --installed | grep -q x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu

export WINEPREFIX="${WINEPREFIX:-$HOME/.wine-cctv-mirror}" WINEDEBUG=-all
wine=/usr/lib/wine/wine64
if [ ! -f "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" ]; then
  echo "== preparing the Wine prefix $WINEPREFIX"
  "$wine" wineboot -i >/dev/null 2>&1 || true
  out=$(mktemp -d)
  x86_64-w64-mingw32-gcc -shared -O2 -o "$out/bcryptprimitives.dll" \
    scripts/wine/bcryptprimitives.c scripts/wine/bcryptprimitives.def -ladvapi32
  cp "$out/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
fi

export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
echo "== building the Windows binaries"
cargo build --release --target x86_64-pc-windows-gnu
exe="$PWD/target/x86_64-pc-windows-gnu/release/cctv-mirror.exe"
# A recorder stand-in that holds its file open (see scripts/wine/hold-writer.c).
writer="$PWD/target/x86_64-pc-windows-gnu/hold-writer.exe"
x86_64-w64-mingw32-gcc -O2 -o "$writer" scripts/wine/hold-writer.c

# A fresh, persistent wineserver shared by the tests (services live only as long as it
# does), and the prefix booted with the Event Log debug channel on: Wine keeps no Event
# Log, but prints each ReportEventW string, which the service test reads back. Booted
# with files, not pipes (Wine's system processes would hold a pipe open).
wineserver=/usr/lib/wine/wineserver
"$wineserver" -k 2>/dev/null || true
"$wineserver" -w 2>/dev/null || true
"$wineserver" -p
events="$(mktemp -d)/wine-events.log"
WINEDEBUG=-all,+eventlog "$wine" cmd /c echo booted >/dev/null 2>"$events" </dev/null
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
  cargo test --test it -- --test-threads=1 watch:: live:: daemon:: demo:: sample:: secrets:: coverage:: verify:: status:: paths:: service:: alerts:: notify:: names:: \
  offsite::check_reads offsite::a_bad_offsite_key offsite_daemon:: "$@" || status=$?
"$wineserver" -k 2>/dev/null || true
exit $status
