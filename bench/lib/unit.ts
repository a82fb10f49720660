import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../common/package-root.js';

const UNIT = join(packageRoot(), 'device', 'systemd', 'classbox.service');

/**
 * The Node.js flags the box's unit starts the daemon with (the words of `ExecStart=` between the node
 * binary and `bin/classbox.js`), so the bench measures the daemon as systemd runs it, from one source.
 */
export function daemonNodeFlags(unitText = readFileSync(UNIT, 'utf8')): string[] {
  const line = unitText.split('\n').find((l) => l.startsWith('ExecStart='));
  if (!line) throw new Error(`${UNIT} has no ExecStart= line`);
  const words = line.slice('ExecStart='.length).trim().split(/\s+/);
  const script = words.findIndex((w) => w.endsWith('/bin/classbox.js'));
  if (script < 1 || !/\/node$/.test(words[0]!)) {
    throw new Error(`ExecStart= does not run node …/bin/classbox.js: ${line}`);
  }
  const flags = words.slice(1, script);
  const notFlag = flags.find((f) => !f.startsWith('--'));
  if (notFlag !== undefined) throw new Error(`ExecStart= has a word that is not a Node.js flag: ${notFlag}`);
  return flags;
}
