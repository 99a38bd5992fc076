#!/usr/bin/env bash
# Holds the .deb to its promises on this machine (`.ci/run` runs it; root, Debian):
# `dpkg -i` → the program, the unit (it passes `systemd-analyze verify`), the config as
# a conffile, the docs; the unit not enabled; `dpkg -r` → the program and the unit
# gone, the config kept; `dpkg -P` → the config gone. Builds the package with
# scripts/release.sh into a temporary folder; refuses to run where cctv-mirror is
# already installed (it would remove it).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

if [ "$(id -u)" != 0 ] || ! command -v dpkg >/dev/null; then
  echo "FAIL: the .deb tests need root and dpkg"
  exit 1
fi
if dpkg-query -W -f='${Status}' cctv-mirror 2>/dev/null | grep -q 'install\|config-files'; then
  echo "FAIL: cctv-mirror is already installed here; remove it first (dpkg -P cctv-mirror)"
  exit 1
fi
command -v systemd-analyze >/dev/null || {
  echo "== installing systemd (for systemd-analyze)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
}

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
work=$(mktemp -d)
trap 'dpkg -P cctv-mirror >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
echo "== building the .deb of $version"
DIST="$work" scripts/release.sh deb >/dev/null
deb="$work/cctv-mirror_${version}_amd64.deb"

failures=0
check() {
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then echo "ok: $what"; else
    echo "FAIL: $what"
    failures=$((failures + 1))
  fi
}
not() { ! "$@"; }
unit=/lib/systemd/system/cctv-mirror.service
conf=/etc/cctv-mirror/config.json
says_version() { /usr/bin/cctv-mirror --version | grep "^cctv-mirror $version (" >/dev/null; }
is_conffile() { dpkg-query -W -f='${Conffiles}' cctv-mirror | grep " $conf " >/dev/null; }
# check parses the packaged config (its folders are missing here: exit 2, not a config error).
config_parses() { { /usr/bin/cctv-mirror check --config "$conf" || true; } | grep '^retention_days: *31' >/dev/null; }
enabled() { ls /etc/systemd/system/*.wants/cctv-mirror.service; }
status_is() { dpkg-query -W -f='${Status}' cctv-mirror 2>/dev/null | grep "$1" >/dev/null; }

echo "== dpkg -i"
check "dpkg -i" dpkg -i "$deb"
check "/usr/bin/cctv-mirror --version says $version" says_version
check "the unit is installed" test -f "$unit"
check "the unit runs /usr/bin/cctv-mirror with /etc/cctv-mirror/config.json" \
  grep -x 'ExecStart=/usr/bin/cctv-mirror run --config /etc/cctv-mirror/config.json' "$unit"
check "systemd-analyze verify $unit" systemd-analyze verify "$unit"
check "the config is a conffile" is_conffile
check "check reads the packaged config" config_parses
check "the docs are in /usr/share/doc/cctv-mirror" test -f /usr/share/doc/cctv-mirror/pt-BR/guia-rapido.md
check "the unit is not enabled" not enabled
echo '{"source_dir": "/srv/a", "backup_dir": "/srv/b", "log_dir": "/var/log/cctv-mirror"}' >"$conf"
cp "$conf" "$work/edited.json"

echo "== dpkg -r"
check "dpkg -r" dpkg -r cctv-mirror
check "the program is gone" test ! -e /usr/bin/cctv-mirror
check "the unit is gone" test ! -e "$unit"
check "the edited config is kept" cmp "$conf" "$work/edited.json"
check "dpkg says config-files" status_is ' config-files$'

echo "== dpkg -P"
check "dpkg -P" dpkg -P cctv-mirror
check "the config is gone" test ! -e "$conf"
check "dpkg no longer knows it" not status_is ' installed$\| config-files$'

echo "== deb-tests took $(($(date +%s) - started)) s; $failures failure(s)"
[ "$failures" -eq 0 ]
