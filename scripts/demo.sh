#!/usr/bin/env bash
# The demo: a local Janus, a simulated box with its kiosk page, a teacher page, buttons from the terminal.
# Installs what is missing first; Ctrl-C stops everything it started.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec node bin/classbox.js demo "$@"
