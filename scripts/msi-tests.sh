#!/usr/bin/env bash
# Holds the Windows installer to its promises under Wine (`.ci/run` runs it):
#
#   1. `msiexec /i … /qn SOURCE_DIR=… BACKUP_DIR=… LOG_DIR=…` → the config written from
#      them, the service running, a recording reaches the backup (the time from msiexec
#      to that first copy is printed), Add/Remove Programs and the Event Log source set
#      (and set again by the service at its start when it went missing);
#   2. the same MSI built one version higher (a major upgrade) → the config byte for
#      byte, the service running the new program (`--version`, the Event Log);
#   3. `msiexec /x … /qn` → the service and the program files gone; the config, the
#      backups and the logs kept;
#   4. an install with no properties and no config → it succeeds, the service is
#      installed but stopped, and the Event Log says how to finish.
#
# Builds both MSIs with scripts/release.sh into a temporary folder. Installs what it
# needs (as root, with apt): MinGW, wine64, wixl, msitools. Uses the Wine prefix of
# scripts/wine-env.sh, where it removes the cctv-mirror it finds installed.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

source scripts/wine-env.sh
wine_setup
if ! command -v wixl >/dev/null || ! command -v msiinfo >/dev/null; then
  echo "== installing wixl msitools"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wixl msitools >/dev/null
fi

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
IFS=. read -r major minor patch <<<"${version%%[-+]*}"
next="$major.$minor.$((patch + 1))"
work=$(mktemp -d)
trap 'wine_server_stop; rm -rf "$work"' EXIT
echo "== building the MSIs of $version and $next"
DIST="$work" scripts/release.sh msi >/dev/null
VERSION="$next" DIST="$work" scripts/release.sh msi >/dev/null
msi1="$work/cctv-mirror-$version-x86_64.msi"
msi2="$work/cctv-mirror-$next-x86_64.msi"

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
ok() { echo "ok: $*"; }
not() { ! "$@"; }
# check WHAT COMMAND...: runs COMMAND, says ok or FAIL.
check() {
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi
}
# wait_for SECS WHAT COMMAND...: polls COMMAND every half second until it succeeds;
# $waited says whether it did (the script goes on either way).
wait_for() {
  local secs=$1 what=$2 deadline
  shift 2
  deadline=$(($(date +%s) + secs))
  waited=false
  while ! "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      fail "$what (waited $secs s)"
      return 0
    fi
    sleep 0.5
  done
  waited=true
  ok "$what"
}
since() { awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $1 }"; }
winpath() { echo "Z:${1//\//\\}"; }
msiexec() { "$wine" msiexec "$@" </dev/null; }
# (No grep -q after a pipe: with pipefail, the writer's SIGPIPE would fail the check.)
state_is() { "$wine" sc query cctv-mirror 2>/dev/null | grep "STATE.*$1" >/dev/null; }
not_known() { ! "$wine" sc query cctv-mirror >/dev/null 2>&1; }
has_text() { grep -a -q -- "$2" "$1"; }
arp_has() { "$wine" reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s 2>/dev/null | tr -d '\r' | grep "$1" >/dev/null; }
source_key='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\cctv-mirror'
program="$WINEPREFIX/drive_c/Program Files/cctv-mirror"
config="$WINEPREFIX/drive_c/ProgramData/cctv-mirror/config.json"
# record NAME: a finished recording of today in the source, dated a minute back.
record() {
  local f
  f="$site/source/$(date +%Y/%m/%d)/$1"
  mkdir -p "$(dirname "$f")"
  head -c 65536 /dev/urandom >"$f"
  touch -d '-1 minute' "$f"
}
copied() { cmp -s "$site/source/$(date +%Y/%m/%d)/$1" "$site/backup/$(date +%Y/%m/%d)/$1"; }

# Every cctv-mirror installed in the prefix, whatever its build (product code).
uninstall_all() {
  local uninstall='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' key
  for key in $("$wine" reg query "$uninstall" 2>/dev/null | tr -d '\r' | grep -o '{[0-9A-F-]*}$'); do
    if "$wine" reg query "$uninstall\\$key" /v DisplayName 2>/dev/null | grep 'cctv-mirror' >/dev/null; then
      msiexec /x "$key" /qn || true
    fi
  done
}

events="$work/wine-events.log"
echo "== a clean prefix: no cctv-mirror installed, no config"
# Booting starts the automatic services a previous run may have left: boot, clean, boot.
wine_server_start "$events"
uninstall_all
rm -f "$config"
wine_server_start "$events"
check "no cctv-mirror service" not_known
msiinfo export "$msi1" Property >"$work/properties"
check "the MSI says its version" has_text "$work/properties" "ProductVersion.$version"
check "the MSI says its publisher" has_text "$work/properties" 'Manufacturer.cctv-mirror developers'


echo "== 1. install $version with SOURCE_DIR, BACKUP_DIR, LOG_DIR"
site="$work/site"
mkdir -p "$site/source"
record before-install.dav
t0=$(date +%s.%N)
msiexec /i "$(winpath "$msi1")" /qn SOURCE_DIR="$(winpath "$site/source")" \
  BACKUP_DIR="$(winpath "$site/backup")" LOG_DIR="$(winpath "$site/logs")" ||
  fail "msiexec /i exited $?"
echo "FIGURE msiexec /i returned after $(since "$t0") s"
wait_for 120 "the first recording reaches the backup" copied before-install.dav
if $waited; then
  echo "FIGURE msiexec /i -> first copy: $(since "$t0") s"
fi
wait_for 60 "the service runs" state_is RUNNING
check "the config names the folders" has_text "$config" 'site\\\\backup'
check "the program is in Program Files" test -f "$program/cctv-mirror.exe"
example_parses() { { "$wine" "$program/cctv-mirror.exe" check --config "$program/config.example.json" || true; } | grep '^retention_days: *31' >/dev/null; }
check "check reads config.example.json" example_parses
check "Add/Remove Programs: the name" arp_has 'DisplayName.*cctv-mirror$'
check "Add/Remove Programs: the version" arp_has "DisplayVersion.*$version\$"
check "Add/Remove Programs: the publisher" arp_has 'Publisher.*cctv-mirror developers'

check "the Event Log source is registered" "$wine" reg query "$source_key" /v EventMessageFile
# A source lost (or a service registered by hand): the service registers it at its start.
"$wine" reg delete "$source_key" /f >/dev/null 2>&1
check "service stop" "$wine" "$program/cctv-mirror.exe" service stop
check "service start" "$wine" "$program/cctv-mirror.exe" service start
check "the service registered its missing Event Log source" "$wine" reg query "$source_key" /v EventMessageFile
record while-running.dav
wait_for 120 "a new recording reaches the backup" copied while-running.dav
cp "$config" "$work/config.before-upgrade" || fail "no config to keep"

echo "== 2. upgrade to $next"
msiexec /i "$(winpath "$msi2")" /qn || fail "msiexec /i (upgrade) exited $?"
check "the config is the same, byte for byte" cmp "$config" "$work/config.before-upgrade"
wait_for 60 "the service runs after the upgrade" state_is RUNNING
says_version() { "$wine" "$program/cctv-mirror.exe" --version | grep "^cctv-mirror $1 (" >/dev/null; }
check "the installed program says $next" says_version "$next"
# The version resource Explorer and the installer show.
resource_says() { x86_64-w64-mingw32-windres -i "$program/cctv-mirror.exe" -O rc | grep "VALUE \"FileVersion\", \"$1\"" >/dev/null; }
check "its version resource says $next" resource_says "$next"
wait_for 60 "the service that runs is $next (Event Log)" has_text "$events" "cctv-mirror $next started"
check "Add/Remove Programs shows $next" arp_has "DisplayVersion.*$next\$"
check "Add/Remove Programs no longer shows $version" not arp_has "DisplayVersion.*$version\$"
record after-upgrade.dav
wait_for 120 "a recording reaches the backup after the upgrade" copied after-upgrade.dav

echo "== 3. uninstall"
msiexec /x "$(winpath "$msi2")" /qn || fail "msiexec /x exited $?"
wait_for 30 "the service manager no longer knows the service" not_known
check "the program files are gone" test ! -e "$program"
check "the Event Log source is gone" not "$wine" reg query "$source_key"
check "the config is kept" cmp "$config" "$work/config.before-upgrade"
check "the backups are kept" copied after-upgrade.dav
check "the logs are kept" test -f "$site/logs/status.json"

echo "== 4. install with no properties and no config"
rm -f "$config"
msiexec /i "$(winpath "$msi2")" /qn || fail "msiexec /i (no properties) exited $?"
wait_for 60 "the service is installed and stopped" state_is STOPPED
check "no config was written" test ! -e "$config"
wait_for 30 "the Event Log says how to finish" has_text "$events" 'To finish: write or fix'
grep -a -o 'cctv-mirror cannot start[^"]*' "$events" | tail -1 | sed 's/^/  /'
msiexec /x "$(winpath "$msi2")" /qn || fail "msiexec /x exited $?"

echo "== msi-tests took $(($(date +%s) - started)) s; $failures failure(s)"
[ "$failures" -eq 0 ]
