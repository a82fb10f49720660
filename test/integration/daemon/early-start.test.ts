import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../../helpers/cli.js';
import { freePort } from '../../helpers/ports.js';

/**
 * Issue 17 (start → READY): the CLI serves the kiosk page before the daemon's modules are loaded and
 * the early Chromium opens it at once; the daemon's own server then takes the port and the page's
 * WebSocket over. Seen from outside: the page is opened by the early launch (not navigated again by
 * the adapter), it connects, and the port answers the page and the API afterwards.
 */
describe('classbox device start', () => {
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens the kiosk page from the early server, then hands the port and the page over to the daemon', async () => {
    dir = await mkdtemp(join(tmpdir(), 'classbox-early-start-'));
    const port = await freePort();
    const file = join(dir, 'device.json');
    await writeFile(
      file,
      JSON.stringify({
        device: { id: 'early-box', displayName: 'early box' },
        // No Janus needed to start: the box shows it is reconnecting, the page is up regardless.
        janus: { url: `ws://127.0.0.1:${await freePort()}`, room: 1234 },
        hardware: { mode: 'sim' },
        kiosk: { browser: 'chromium', headless: true, fakeMedia: true, width: 1280, height: 720 },
        control: { port },
        log: { level: 'info' },
      }),
    );
    const child = spawn(process.execPath, [CLI, 'device', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('Connected kiosk page')) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`the kiosk page did not connect:\n${output.slice(-3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(output).toMatch(/Took over the kiosk browser launched early pid=\d+ pageOpened=true/);
      // After the hand-over the daemon's own server answers: the page and the control API.
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>classbox</title>');
      const status = (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as {
        health: unknown;
      };
      expect(status.health).toMatchObject({ kiosk: { status: 'ok' } });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
