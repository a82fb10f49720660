#!/usr/bin/env bash
# Installs what classbox needs to run its demo and its tests on Debian 12 / Raspberry Pi OS, as root:
# Debian packages (Janus, Chromium, a CJK font, PostgreSQL, tools), Node.js >= 20.19, npm packages.
# Safe to run again: it only installs what is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(
  janus janus-demos          # the videoroom server and janus.js (teacher page, benchmark anchor)
  chromium                   # the kiosk browser and the test participants
  janus-tools ffmpeg         # lesson catch-up: janus-pp-rec turns .mjr recordings into files, ffmpeg cuts them (issue 21)
  fonts-wqy-microhei         # Chinese glyphs on screen
  postgresql                 # the fleet server's scale-out database (tests run it in a temp dir)
  iproute2                   # network namespaces for Janus (it can't use loopback for ICE)
  nftables                   # random loss on a test's bad link (the CI kernel has no netem; issue 16)
  mtools dosfstools fdisk    # flashing: write the enrolment seed to the FAT boot partition
  shellcheck                 # checks the shell scripts
  systemd                    # systemd-analyze verify for the units
  dpkg-dev fakeroot          # the Debian package
  xz-utils openssl           # compressed images, checksums
  python3-yaml               # checks the image configuration's YAML; build-vm-image reads the layer's package list
  mmdebstrap qemu-system-x86 # the box's disk image built here and booted in a VM (issue 14)
  g++ make python3           # native addons (better-sqlite3, unix-dgram, epoll)
  ca-certificates git
)

need_root() {
  if [[ ${EUID} -ne 0 ]]; then
    echo "classbox setup: run as root (it installs Debian packages): sudo $0" >&2
    exit 1
  fi
}

missing_packages() {
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    [[ ${pkg} == \#* ]] && continue
    if ! dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "${pkg}"
    fi
  done
}

install_debian_packages() {
  local -a missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    return
  fi
  need_root
  echo "classbox setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'
}

# Debian 12 ships Node 18; the npm registry carries the official Node binaries as packages.
install_node() {
  if node_ok; then
    return
  fi
  need_root
  if ! command -v npm >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
  fi
  local arch tmp
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "classbox setup: no Node.js package for $(uname -m)" >&2; exit 1 ;;
  esac
  tmp="$(mktemp -d)"
  (cd "${tmp}" && npm pack --silent "node-linux-${arch}@24" >/dev/null)
  mkdir -p /opt/classbox-node
  tar -xzf "${tmp}"/node-linux-*.tgz -C /opt/classbox-node --strip-components=1
  rm -rf "${tmp}"
  ln -sf /opt/classbox-node/bin/node /usr/local/bin/node
  echo "classbox setup: installed Node.js $(node --version) in /opt/classbox-node"
}

install_npm_packages() {
  if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
  fi
}

install_debian_packages
install_node
install_npm_packages
npm run --silent build
