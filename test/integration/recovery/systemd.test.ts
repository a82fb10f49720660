import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import unixDgram from 'unix-dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/browser.js';
import { CLI } from '../../helpers/cli.js';
import { BOX_NAME, Classroom, ROOM, teacherDecodesBox } from '../../helpers/classroom.js';
import { teacherSees } from '../../helpers/browser.js';
import { freePort } from '../../helpers/ports.js';

/** A real notify socket, as systemd has: every datagram the daemon sends, with when it came. */
async function notifySocket(dir: string) {
  const path = join(dir, 'notify.sock');
  const messages: { at: number; fields: Record<string, string> }[] = [];
  const socket = unixDgram.createSocket('unix_dgram', (buf: Buffer) => {
    const fields = Object.fromEntries(
      buf
        .toString()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    messages.push({ at: Date.now(), fields });
  });
  socket.bind(path);
  return { path, messages, close: () => socket.close() };
}

describe('under systemd, with a real notify socket', () => {
  let room: Classroom;
  let dir: string;
  beforeAll(async () => {
    room = await Classroom.open();
    dir = await mkdtemp(join(tmpdir(), 'classbox-sd-'));
  }, 60_000);
  afterAll(async () => {
    await room?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends READY, STATUS, WATCHDOG; stops the watchdog when the page hangs; STOPPING on SIGTERM mid-class, within 5 s', async () => {
    const notify = await notifySocket(dir);
    const port = await freePort();
    const file = join(dir, 'device.json');
    await writeFile(
      file,
      JSON.stringify({
        device: { id: 'sd-box', displayName: BOX_NAME },
        janus: { url: room.janus.url, room: ROOM },
        hardware: { mode: 'sim' },
        kiosk: {
          browser: 'chromium',
          headless: true,
          fakeMedia: true,
          width: 1280,
          height: 720,
          heartbeatTimeoutMs: 4000,
        },
        control: { port },
        log: { level: 'warn' },
      }),
    );
    const child = spawn(process.execPath, [CLI, 'device', '--config', file], {
      env: { ...process.env, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '1000000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const api = `http://127.0.0.1:${port}`;
    let stopped: number[] = [];
    try {
      const ready = await waitFor(
        () => notify.messages.find((m) => m.fields.READY === '1'),
        30_000,
        'READY=1',
      );
      expect(ready.fields.STATUS).toContain('Idle');
      const status = (await (await fetch(`${api}/api/status`)).json()) as {
        health: { kiosk: { status: string } };
      };
      expect(status.health.kiosk.status).toBe('ok');

      // Fed at half of WATCHDOG_USEC while healthy.
      const since = Date.now();
      await new Promise((r) => setTimeout(r, 2600));
      const feeds = notify.messages.filter((m) => m.fields.WATCHDOG === '1' && m.at >= since).length;
      expect(feeds).toBeGreaterThanOrEqual(3);

      await fetch(`${api}/api/buttons/class/press`, { method: 'POST' });
      await waitFor(
        () => notify.messages.find((m) => m.fields.STATUS === 'In class'),
        15_000,
        'STATUS=In class',
      );
      const teacher = await room.participant('王老师 Teacher Wang');
      await teacherDecodesBox(teacher);

      // Hang the page's renderer: no more heartbeats, so no more WATCHDOG=1 until the kiosk is relaunched.
      const pidBefore = await kioskPid(child.pid!);
      stopped = await stopRenderers(pidBefore!);
      expect(stopped.length).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 500));
      const hungAt = Date.now();
      await waitFor(
        async () => (await kioskPid(child.pid!)) !== pidBefore,
        20_000,
        'the kiosk to be relaunched',
      );
      const relaunchedAt = Date.now();
      const gap = notify.messages.filter(
        (m) => m.fields.WATCHDOG === '1' && m.at > hungAt + 4500 && m.at < relaunchedAt,
      );
      expect(gap).toEqual([]);
      await waitFor(
        () => notify.messages.some((m) => m.fields.WATCHDOG === '1' && m.at > relaunchedAt),
        20_000,
        'the watchdog fed again',
      );

      // SIGTERM mid-class: leaves the room (the teacher sees it go), STOPPING=1, exits 0 within 5 s, no Chromium left.
      await waitFor(
        async () => ((await (await fetch(`${api}/api/status`)).json()) as { state: string }).state === 'live',
        20_000,
        'live again',
      );
      const chromium = await kioskPid(child.pid!);
      const sentAt = Date.now();
      child.kill('SIGTERM');
      const code = await Promise.race([
        exited,
        new Promise((r) => setTimeout(() => r('still running'), 8000)),
      ]);
      if (code !== 0) console.log(output.slice(-3000));
      expect(code).toBe(0);
      expect(Date.now() - sentAt).toBeLessThan(5000);
      expect(notify.messages.some((m) => m.fields.STOPPING === '1')).toBe(true);
      expect(chromium && alive(chromium)).toBe(false);
      await waitFor(
        async () => !(await teacherSees(teacher)).some((r) => r.display === BOX_NAME),
        5000,
        'the teacher to see the box leave',
      );
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const pid of stopped) if (alive(pid)) process.kill(pid, 'SIGKILL');
      notify.close();
    }
  }, 120_000);
});

/** Freeze the kiosk's renderers with SIGSTOP: a hung page, as far as anyone outside can tell. */
async function stopRenderers(browserPid: number): Promise<number[]> {
  const table = await ps(['-eo', 'pid=,ppid=,args=']);
  const rows = table.map((l) => {
    const [pid, ppid, ...args] = l.trim().split(/\s+/);
    return { pid: Number(pid), ppid: Number(ppid), args: args.join(' ') };
  });
  const family = new Set([browserPid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rows) {
      if (family.has(r.ppid) && !family.has(r.pid)) {
        family.add(r.pid);
        grew = true;
      }
    }
  }
  const renderers = rows
    .filter((r) => family.has(r.pid) && r.args.includes('--type=renderer'))
    .map((r) => r.pid);
  for (const pid of renderers) process.kill(pid, 'SIGSTOP');
  return renderers;
}

function ps(args: string[]): Promise<string[]> {
  return new Promise((resolve) =>
    execFile('ps', args, (_error, stdout) => resolve(stdout.split('\n').filter(Boolean))),
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The kiosk Chromium: the daemon's child process named chromium. */
async function kioskPid(daemonPid: number): Promise<number | undefined> {
  const lines = await ps(['-o', 'pid=,comm=', '--ppid', String(daemonPid)]);
  const line = lines.map((l) => l.trim().split(/\s+/)).find(([, comm]) => comm?.startsWith('chrom'));
  return line ? Number(line[0]) : undefined;
}
