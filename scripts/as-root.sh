# shellcheck shell=bash
# Sourced first by the scripts the README names: they need root (Debian packages, Janus's network
# namespace, a throwaway PostgreSQL cluster, the VM image). In a root shell they run as they are (a
# minimal Debian has no sudo); a user with sudo is asked for it once, here.
if [[ ${EUID} -ne 0 ]]; then
  if command -v sudo >/dev/null; then
    exec sudo --preserve-env=CI,CLASSBOX_CHROMIUM "$0" "$@"
  fi
  echo "$(basename "$0"): run as root (it installs Debian packages and makes network namespaces)" >&2
  exit 1
fi
