#!/usr/bin/env bash
# ExecStartPre= of classbox.service: the one rollback that can't be left to the daemon.
#
# A starting daemon judges a version on trial itself (docs/updates.md). A version so broken
# that its daemon never gets that far (a missing module, a crash on import) can't: systemd
# keeps restarting it. This guard runs before every start, outside any release, and once the
# trial's deadline has passed it points `current` back at the previous release and records
# the rollback, so the next start runs the old version.
#
# Usage: update-guard.sh [--root /opt/classbox] [--state-dir /var/lib/classbox] [--node PATH]
set -euo pipefail

root=/opt/classbox
state_dir=/var/lib/classbox
node=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    --state-dir) state_dir="$2"; shift 2 ;;
    --node) node="$2"; shift 2 ;;
    *) echo "update-guard: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [[ -z "$node" ]]; then
  if [[ -x "$root/node/bin/node" ]]; then node="$root/node/bin/node"; else node="$(command -v node)"; fi
fi

trial="$state_dir/update/trial.json"
[[ -f "$trial" ]] || exit 0

# The bundled Node reads the JSON; paths come in as arguments, never as code.
# shellcheck disable=SC2016
"$node" -e '
const fs = require("node:fs");
const path = require("node:path");
const [root, stateDir] = process.argv.slice(1);
const updateDir = path.join(stateDir, "update");
let trial;
try {
  trial = JSON.parse(fs.readFileSync(path.join(updateDir, "trial.json"), "utf8"));
} catch {
  process.exit(0);
}
const releases = path.join(root, "releases");
let current;
try {
  current = path.basename(fs.readlinkSync(path.join(releases, "current")));
} catch {
  current = undefined;
}
const due = typeof trial.deadline === "number" && Date.now() > trial.deadline;
const back = typeof trial.previous === "string" ? trial.previous : undefined;
if (!due || current !== trial.version || !back || !fs.statSync(path.join(releases, back), { throwIfNoEntry: false })?.isDirectory()) {
  process.exit(0);
}
const writeAtomic = (file, text) => {
  const temp = `${file}.tmp-guard`;
  const fd = fs.openSync(temp, "w", 0o600);
  fs.writeSync(fd, text);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(temp, file);
};
const link = path.join(releases, ".current.tmp");
fs.rmSync(link, { force: true });
fs.symlinkSync(back, link);
fs.renameSync(link, path.join(releases, "current"));
const detail = `version ${trial.version} did not start and become healthy by ${new Date(trial.deadline).toISOString()}`;
const outcome = {
  version: trial.version, result: "rolled-back", code: "E-UPDATE-UNHEALTHY", detail, at: new Date().toISOString(),
};
writeAtomic(path.join(updateDir, "outcome.json"), JSON.stringify(outcome, null, 2) + "\n");
// The update history (history.jsonl, as the daemon appends it): one line, fsynced; after a line torn
// by a power cut, on a new line. The daemon trims it at its next append.
const history = path.join(updateDir, "history.jsonl");
let torn = false;
const size = fs.statSync(history, { throwIfNoEntry: false })?.size ?? 0;
if (size > 0) {
  const fd = fs.openSync(history, "r");
  const last = Buffer.alloc(1);
  fs.readSync(fd, last, 0, 1, size - 1);
  fs.closeSync(fd);
  torn = last[0] !== 10;
}
const hd = fs.openSync(history, "a", 0o600);
fs.writeSync(hd, (torn ? "\n" : "") + JSON.stringify(outcome) + "\n");
fs.fsyncSync(hd);
fs.closeSync(hd);
fs.rmSync(path.join(updateDir, "trial.json"), { force: true });
fs.rmSync(path.join(updateDir, "update.json"), { force: true });
const dir = fs.openSync(updateDir, "r");
fs.fsyncSync(dir);
fs.closeSync(dir);
const rel = fs.openSync(releases, "r");
fs.fsyncSync(rel);
fs.closeSync(rel);
console.log(`update-guard: rolled back ${trial.version} to ${back}: ${detail}`);
' "$root" "$state_dir"
