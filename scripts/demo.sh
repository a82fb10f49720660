#!/usr/bin/env bash
# The demo: a local Janus, a simulated box with its kiosk page, a teacher page, buttons from the terminal.
# Installs what is missing first; Ctrl-C stops everything it started.
set -euo pipefail

# shellcheck source=scripts/as-root.sh
source "$(dirname "${BASH_SOURCE[0]}")/as-root.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec node bin/classbox.js demo "$@"
