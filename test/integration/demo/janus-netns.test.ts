import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { JanusServer } from '../../../device/demo/janus-server.js';
import { freePort } from '../../helpers/ports.js';

const CLAIMS = '/run/classbox-netns';
const isRoot = process.getuid?.() === 0;

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter(Boolean);
}

/**
 * Janus's network namespace is never one another process owns (found by the power-cut run: a test run
 * beside it drew the VM's namespace number, deleted the namespace and cut the booted box off its fleet).
 * The numbers this process would try first are taken here as another process would take them: one
 * claimed by a live process (pid 1), the next left behind by a process that died without cleaning up.
 */
describe.skipIf(!isRoot)("Janus's network namespace, claimed machine-wide", () => {
  const first = process.pid % 4000;
  const leftover = `cbx-janus-${(first + 1) % 4000}`;
  let janus: JanusServer | undefined;
  // What this test made itself, and only that, is undone (another process may hold either already).
  let claimedFirst = false;
  let madeLeftover = false;

  afterAll(async () => {
    await janus?.stop();
    if (claimedFirst) rmSync(`${CLAIMS}/${first}`, { force: true });
    if (madeLeftover) execFileSync('ip', ['netns', 'del', leftover]);
  });

  it("takes a number nobody holds, leaves others' namespaces alone, and frees its claim when stopped", async () => {
    mkdirSync(CLAIMS, { recursive: true });
    if (!existsSync(`${CLAIMS}/${first}`)) {
      writeFileSync(`${CLAIMS}/${first}`, '1', { flag: 'wx' });
      claimedFirst = true;
    }
    if (!namespaces().includes(leftover)) {
      execFileSync('ip', ['netns', 'add', leftover]);
      madeLeftover = true;
    }
    const holder = readFileSync(`${CLAIMS}/${first}`, 'utf8');
    janus = new JanusServer({ rooms: [], wsPort: await freePort(), network: 'netns' });

    await janus.start();
    const name = janus.netns!.name;
    const n = Number(name.replace('cbx-janus-', ''));
    expect([first, (first + 1) % 4000]).not.toContain(n);
    expect(readFileSync(`${CLAIMS}/${n}`, 'utf8')).toBe(String(process.pid));
    expect(readFileSync(`${CLAIMS}/${first}`, 'utf8')).toBe(holder);
    expect(namespaces()).toContain(leftover);
    expect(namespaces()).toContain(name);

    await janus.stop();
    expect(existsSync(`${CLAIMS}/${n}`)).toBe(false);
    expect(namespaces()).not.toContain(name);
    expect(namespaces()).toContain(leftover);
  }, 60_000);
});
