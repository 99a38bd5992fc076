#!/usr/bin/env bash
# Builds the release artifacts into dist/:
#
#   cctv-mirror-VERSION-windows-x86_64.zip   both .exe, config.example.json, README, docs/ (with monitoring/), licenses
#   cctv-mirror-VERSION-x86_64.msi           the Windows installer (packaging/windows/cctv-mirror.wxs)
#   cctv-mirror_VERSION_amd64.deb            /usr/bin/cctv-mirror, the systemd unit, /etc/cctv-mirror/config.json
#   SHA256SUMS
#
#   scripts/release.sh                       # all, the version of Cargo.toml
#   VERSION=0.1.1 scripts/release.sh         # another version (the binaries say it too)
#   scripts/release.sh msi deb               # only these (zip, msi, deb); no SHA256SUMS
#   DIST=/tmp/out scripts/release.sh         # another output folder
#
# The binaries in the zip and the MSI, and the .deb's, are stripped of their debug
# information (function names stay).
#
# Needs the Rust target x86_64-pc-windows-gnu, MinGW (gcc-mingw-w64-x86-64), wixl,
# zip and dpkg-deb; installs them (as root, with apt) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

VERSION="${VERSION:-$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)}"
export CCTV_MIRROR_RELEASE_VERSION="$VERSION"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc

need_tools() {
  local need=()
  command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
  command -v wixl >/dev/null || need+=(wixl)
  command -v zip >/dev/null || need+=(zip)
  command -v dpkg-deb >/dev/null || need+=(dpkg)
  if [ ${#need[@]} -gt 0 ]; then
    echo "== installing ${need[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  rustup target list --installed | grep -q x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu
}

wanted() {
  [[ " ${artifacts[*]} " == *" $1 "* ]]
}

build() {
  if wanted zip || wanted msi; then
    echo "== building $VERSION for Windows"
    cargo build --release --target x86_64-pc-windows-gnu --bins
  fi
  if wanted deb; then
    echo "== building $VERSION for Linux"
    cargo build --release --bin cctv-mirror
  fi
}

# The zip's folder: what an operator unpacks (the MSI is built from the same files).
stage_windows() {
  local dir=$1 bin=target/x86_64-pc-windows-gnu/release
  mkdir -p "$dir"
  cp "$bin/cctv-mirror.exe" "$bin/cctv-mirrorw.exe" packaging/config.example.json \
    README.md LICENSE-MIT LICENSE-APACHE "$dir/"
  x86_64-w64-mingw32-strip --strip-debug "$dir/cctv-mirror.exe" "$dir/cctv-mirrorw.exe"
  cp -r docs "$dir/docs"
  cp -r packaging/monitoring "$dir/docs/monitoring"
}

zip_windows() {
  local dir=$1 name
  name=$(basename "$dir")
  (cd "$(dirname "$dir")" && zip -q -r -X "$dist/$name.zip" "$name")
}

# docs_wxs DIR: a WiX fragment installing DIR's files under DOCSDIR (the component
# group Docs), their paths relative to the folder wixl runs in.
docs_wxs() {
  local n=0 refs=""
  walk() {
    local f
    for f in "$1"/*; do
      n=$((n + 1))
      if [ -d "$f" ]; then
        echo "<Directory Id=\"docs_dir$n\" Name=\"$(basename "$f")\">"
        walk "$f"
        echo "</Directory>"
      else
        echo "<Component Id=\"docs_$n\" Guid=\"*\" Win64=\"yes\"><File Id=\"docs_$n\" Name=\"$(basename "$f")\" Source=\"$f\" KeyPath=\"yes\" /></Component>"
        refs+="<ComponentRef Id=\"docs_$n\" />"
      fi
    done
  }
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo '<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi"><Fragment><DirectoryRef Id="DOCSDIR">'
  walk "$1"
  echo "</DirectoryRef><ComponentGroup Id=\"Docs\">$refs</ComponentGroup></Fragment></Wix>"
}

msi() {
  local dir=$1 fragment
  fragment="$(dirname "$dir")/docs.wxs"
  (cd "$dir" && docs_wxs docs >"$fragment" \
    && wixl -a x64 -D Version="$VERSION" -o "$dist/cctv-mirror-$VERSION-x86_64.msi" \
      "$root/packaging/windows/cctv-mirror.wxs" "$fragment")
}

deb() {
  local tree=$1 doc=$1/usr/share/doc/cctv-mirror
  mkdir -p "$tree/DEBIAN" "$tree/usr/bin" "$tree/lib/systemd/system" "$tree/etc/cctv-mirror" "$doc"
  install -m 755 target/release/cctv-mirror "$tree/usr/bin/cctv-mirror"
  strip --strip-debug "$tree/usr/bin/cctv-mirror"
  sed 's#/usr/local/bin/cctv-mirror#/usr/bin/cctv-mirror#' packaging/systemd/cctv-mirror.service \
    >"$tree/lib/systemd/system/cctv-mirror.service"
  install -m 644 packaging/debian/config.json "$tree/etc/cctv-mirror/config.json"
  cp README.md LICENSE-MIT LICENSE-APACHE "$doc/"
  cp -r docs/. "$doc/"
  cp -r packaging/monitoring "$doc/monitoring"
  printf 'cctv-mirror\nCopyright (c) the cctv-mirror developers\nLicense: MIT OR Apache-2.0 (LICENSE-MIT, LICENSE-APACHE)\n' >"$doc/copyright"
  echo /etc/cctv-mirror/config.json >"$tree/DEBIAN/conffiles"
  install -m 755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$tree/DEBIAN/"
  local size
  size=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)
  sed "s/@VERSION@/$VERSION/; s/@SIZE@/$size/" packaging/debian/control >"$tree/DEBIAN/control"
  find "$tree" -type d -exec chmod 755 {} +
  dpkg-deb --root-owner-group -Zxz --build "$tree" "$dist/cctv-mirror_${VERSION}_amd64.deb" >/dev/null
}

artifacts=("$@")
[ ${#artifacts[@]} -gt 0 ] || artifacts=(zip msi deb)
need_tools
build
dist=${DIST:-$root/dist}
mkdir -p "$dist" && dist=$(cd "$dist" && pwd)
stage=$root/target/release-stage/$VERSION
rm -rf "$stage" && mkdir -p "$stage"
windows=$stage/cctv-mirror-$VERSION-windows-x86_64
if wanted zip || wanted msi; then
  stage_windows "$windows"
fi
if wanted zip; then
  rm -f "$dist/$(basename "$windows").zip"
  zip_windows "$windows"
fi
if wanted msi; then
  msi "$windows"
fi
if wanted deb; then
  deb "$stage/deb"
fi
cd "$dist"
if [ ${#artifacts[@]} -eq 3 ]; then
  sha256sum -- "cctv-mirror-$VERSION-windows-x86_64.zip" "cctv-mirror-$VERSION-x86_64.msi" \
    "cctv-mirror_${VERSION}_amd64.deb" >SHA256SUMS
fi
echo "== $dist"
ls -l -- *"$VERSION"* SHA256SUMS 2>/dev/null || true
