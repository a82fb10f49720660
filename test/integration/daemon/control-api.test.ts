import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBox, type TestBox } from '../../helpers/box.js';
import { waitFor } from '../../helpers/browser.js';
import { CLI } from '../../helpers/cli.js';
import { freePort } from '../../helpers/ports.js';

describe('the control API of a booted daemon in sim mode, with no Janus reachable', () => {
  let box: TestBox;
  let deadPort: number;

  beforeAll(async () => {
    deadPort = await freePort();
    box = await startBox({
      janus: { url: `ws://127.0.0.1:${deadPort}`, room: 2222, connectTimeoutMs: 1000 },
      kiosk: { browser: 'none' },
    });
  });

  afterAll(async () => {
    await box?.stop();
  });

  it('answers /api/status with the contract fields', async () => {
    const status = await box.status();
    expect(status).toMatchObject({
      state: 'idle',
      room: 2222,
      feed: null,
      remoteFeeds: [],
      deviceId: 'test-box',
      muted: false,
    });
    expect(status.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(status.health).sort()).toEqual([
      'buttons',
      'camera',
      'kiosk',
      'microphone',
      'server',
      'speaker',
      'storage',
    ]);
    expect(status.leds).toEqual({ status: 'off', mute: 'off' });
  });

  it('shows on the idle status that the server is unreachable', async () => {
    const status = await waitFor(
      async () => {
        const s = await box.status();
        return s.health.server?.code === 'E-JANUS-UNREACHABLE' ? s : undefined;
      },
      10_000,
      'the server health',
    );
    expect(status.health.server?.status).toBe('missing');
  });

  it('gives a clear error state on a press, and keeps running', async () => {
    await box.press('class');
    const status = await box.waitForState('error');
    expect(status.errorCode).toBe('E-JANUS-UNREACHABLE');
    expect(status.leds.status).toBe('fast-blink');
    // Still serving, still pressable: a second press retries.
    const again = await box.press('class');
    expect(['joining', 'error']).toContain(again.state);
    await box.waitForState('error');
  });

  it('toggles the microphone with the mute button, and the mute LED follows', async () => {
    expect((await box.press('mute')).muted).toBe(true);
    expect((await box.status()).leds.mute).toBe('solid');
    expect((await box.press('mute')).muted).toBe(false);
    expect((await box.status()).leds.mute).toBe('off');
  });

  it('refuses an unknown button and a bad hold with a message naming the problem', async () => {
    const unknown = await fetch(`${box.url}/api/buttons/power/press`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { message: string }).message).toBe(
      'no button "power": the buttons are "class" and "mute"',
    );
    const bad = await fetch(`${box.url}/api/buttons/class/press`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ holdMs: -5 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^holdMs: /);
  });

  it('serves Prometheus metrics', async () => {
    const res = await fetch(`${box.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/classbox_session_state\{state="error"\} 1/);
    expect(text).toMatch(/classbox_joins_total\{result="E-JANUS-UNREACHABLE"\} [1-9]/);
    expect(text).toMatch(/classbox_button_presses_total\{button="mute",kind="short"\} 2/);
  });

  it('listens on loopback only', async () => {
    const { address } = box.daemon.app.getHttpServer().address() as { address: string };
    expect(address).toBe('127.0.0.1');
  });
});

describe('the daemon process', () => {
  it('stops within 5 s of SIGTERM, exit code 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'classbox-sig-'));
    const port = await freePort();
    const file = join(dir, 'device.json');
    await writeFile(
      file,
      JSON.stringify({
        device: { id: 'sig-box', displayName: 'Signal test' },
        janus: { url: `ws://127.0.0.1:${await freePort()}`, room: 1 },
        hardware: { mode: 'sim' },
        kiosk: { browser: 'none' },
        control: { port },
      }),
    );
    const child = spawn(process.execPath, [CLI, 'device', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/api/status`)).ok,
        15_000,
        'the daemon to listen',
      );
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const sentAt = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      expect(code).toBe(0);
      expect(Date.now() - sentAt).toBeLessThan(5000);
      // Logs are JSON lines.
      const lines = out.trim().split('\n');
      expect(lines.every((l) => JSON.parse(l) && true)).toBe(true);
      expect(out).toContain('Stopped daemon');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  /** Processes whose command line mentions `fragment` (e.g. a Chromium profile under a test's own TMPDIR). */
  const processesMentioning = (fragment: string): number[] =>
    readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(fragment);
        } catch {
          return false;
        }
      })
      .map(Number);

  const chromiumConfig = (port: number, janusPort: number) => ({
    device: { id: 'early-box', displayName: 'Early Chromium' },
    janus: { url: `ws://127.0.0.1:${janusPort}`, room: 1, connectTimeoutMs: 1000 },
    hardware: { mode: 'sim' },
    kiosk: { browser: 'chromium', headless: true, fakeMedia: true, width: 640, height: 480 },
    control: { port },
  });

  it('launches the kiosk Chromium before loading the app, takes it over, and closes it on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'classbox-early-'));
    const port = await freePort();
    const file = join(dir, 'device.json');
    await writeFile(file, JSON.stringify(chromiumConfig(port, await freePort())));
    const child = spawn(process.execPath, [CLI, 'device', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: dir },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/api/status`).catch(() => undefined);
          const status = (await res?.json()) as { health?: { kiosk?: { status: string } } } | undefined;
          return status?.health?.kiosk?.status === 'ok';
        },
        30_000,
        'the kiosk page to connect',
      );
      expect(out).toContain('Took over the kiosk browser launched early');
      expect(processesMentioning(dir).length).toBeGreaterThan(0);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await waitFor(() => processesMentioning(dir).length === 0, 5000, 'Chromium to be gone');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('leaves no early Chromium behind when the daemon cannot start (port taken)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'classbox-early-'));
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const file = join(dir, 'device.json');
    await writeFile(file, JSON.stringify(chromiumConfig(port, await freePort())));
    try {
      const child = spawn(process.execPath, [CLI, 'device', '--config', file], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TMPDIR: dir },
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code).toBe(1);
      expect(err).toContain('already in use');
      await waitFor(() => processesMentioning(dir).length === 0, 5000, 'no Chromium left');
      expect(readdirSync(dir).filter((name) => name.startsWith('classbox-kiosk-'))).toEqual([]);
    } finally {
      taken.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
