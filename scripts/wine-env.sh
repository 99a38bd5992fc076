# The Wine set-up that scripts/wine-tests.sh and scripts/msi-tests.sh share; sourced,
# from the project's root:
#
#   wine_setup                 installs (as root, with apt) MinGW and wine64 and the Rust
#                              target when missing; prepares the prefix $WINEPREFIX
#                              (default ~/.wine-cctv-mirror) with a stand-in
#                              bcryptprimitives.dll (see scripts/wine/)
#   wine_server_start EVENTS   a fresh, persistent wineserver (services live only as long
#                              as it does), the prefix booted with the Event Log debug
#                              channel on: Wine keeps no Event Log, but prints each
#                              ReportEventW string, here into the file EVENTS
#   wine_server_stop
#
# It sets $wine (Wine's loader with a fixed address layout: scripts/wine/wine64 says why)
# and $wineserver, and exports WINEPREFIX, WINEDEBUG and the MinGW linker.

wine="$PWD/scripts/wine/wine64"
wineserver=/usr/lib/wine/wineserver
export WINEPREFIX="${WINEPREFIX:-$HOME/.wine-cctv-mirror}" WINEDEBUG=-all
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc

wine_setup() {
  local need_apt=() out
  command -v x86_64-w64-mingw32-gcc >/dev/null || need_apt+=(gcc-mingw-w64-x86-64)
  [ -x /usr/lib/wine/wine64 ] || need_apt+=(wine64)
  if [ ${#need_apt[@]} -gt 0 ]; then
    echo "== installing ${need_apt[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  fi
  rustup target list --installed | grep -q x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu
  if [ ! -f "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" ]; then
    echo "== preparing the Wine prefix $WINEPREFIX"
    "$wine" wineboot -i >/dev/null 2>&1 || true
    out=$(mktemp -d)
    x86_64-w64-mingw32-gcc -shared -O2 -o "$out/bcryptprimitives.dll" \
      scripts/wine/bcryptprimitives.c scripts/wine/bcryptprimitives.def -ladvapi32
    cp "$out/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
  fi
}

# Booted with files, not pipes (Wine's system processes would hold a pipe open).
wine_server_start() {
  "$wineserver" -k 2>/dev/null || true
  "$wineserver" -w 2>/dev/null || true
  "$wineserver" -p
  WINEDEBUG=-all,+eventlog "$wine" cmd /c echo booted >/dev/null 2>"$1" </dev/null
}

wine_server_stop() {
  "$wineserver" -k 2>/dev/null || true
}
