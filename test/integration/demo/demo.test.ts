import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/browser.js';
import { CLI } from '../../helpers/cli.js';
import { freePort } from '../../helpers/ports.js';

describe('classbox demo, driven from its terminal', () => {
  it('starts Janus, the fleet server and the box; a press makes the box live; q stops everything', async () => {
    const [box, teacher, janus, fleet] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const child = spawn(
      process.execPath,
      [
        CLI,
        'demo',
        '--headless',
        '--box-port',
        `${box}`,
        '--teacher-port',
        `${teacher}`,
        '--janus-port',
        `${janus}`,
        '--fleet-port',
        `${fleet}`,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => out.includes('classbox demo is running'), 60_000, 'the demo to start');
      // The terminal shows the summary and the keys; the JSON logs go to the file it names.
      const logFile = /^Logs go to (\S+)$/m.exec(out)?.[1];
      expect(logFile).toBeDefined();
      expect(out).toContain(`http://127.0.0.1:${teacher}/?janus=`);
      expect(out).toContain(`http://127.0.0.1:${fleet}/`);
      const status = async () =>
        (await (await fetch(`http://127.0.0.1:${box}/api/status`)).json()) as {
          state: string;
          room: number;
          health: { kiosk: { status: string } };
        };
      // The box learnt its room from the fleet server it enrolled with.
      await waitFor(
        async () => (await status()).room === 2222 && (await status()).health.kiosk.status === 'ok',
        30_000,
        'the enrolled box and its page',
      );
      child.stdin.write('press\n');
      await waitFor(async () => (await status()).state === 'live', 20_000, 'the box to go live');
      await waitFor(() => out.includes('[box] live'), 5000, 'the terminal to show live');
      const shot = await fetch(`http://127.0.0.1:${box}/api/kiosk/screenshot`);
      expect(shot.headers.get('content-type')).toBe('image/png');
      child.stdin.write('q\n');
      expect(await exited).toBe(0);
      expect(out).toContain('Stopped.');
      expect(out.split('\n').filter((line) => line.startsWith('{'))).toEqual([]);
      const logged = readFileSync(logFile!, 'utf8').trim().split('\n');
      expect(logged.length).toBeGreaterThan(10);
      expect(logged.map((line) => (JSON.parse(line) as { level: string }).level)).toContain('info');
      await expect(fetch(`http://127.0.0.1:${box}/api/status`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 150_000);
});
