#!/usr/bin/env bash
# Runs the whole test suite: typecheck, lint, format check, shellcheck, then every test (unit and
# integration, with a real Janus, Chromium, SQLite and PostgreSQL). Installs what is missing first.
set -euo pipefail

# shellcheck source=scripts/as-root.sh
source "$(dirname "${BASH_SOURCE[0]}")/as-root.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

npm run --silent typecheck
npm run --silent lint
npm run --silent format:check
git ls-files -z '*.sh' 'provisioning/flash' 'images/build-vm-image' '.ci/run' | xargs -0 -r shellcheck
npx vitest run "$@"
