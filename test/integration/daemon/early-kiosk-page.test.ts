import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { EarlyKioskPage } from '../../../device/adapters/kiosk-page.early.js';
import { freePort } from '../../helpers/ports.js';

/**
 * The bare server that serves the kiosk page on the control port before the daemon's modules load
 * (issue 17), and hands the port and the page's WebSocket over to the daemon's own server.
 */
describe('EarlyKioskPage', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function page(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'classbox-early-page-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>classbox</title>');
    await writeFile(join(dir, 'assets', 'index-1.js'), 'console.log(1)');
    return dir;
  }

  async function start(port: number, dir: string): Promise<EarlyKioskPage> {
    const early = await EarlyKioskPage.start(port, dir);
    if (!early) throw new Error('the early server did not start');
    cleanups.push(() => early.close());
    return early;
  }

  it('serves the built page and nothing else', async () => {
    const port = await freePort();
    await start(port, await page());
    const base = `http://127.0.0.1:${port}`;
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await index.text()).toContain('<title>classbox</title>');
    const script = await fetch(`${base}/assets/index-1.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await script.text()).toBe('console.log(1)');
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/../classbox-early-secret.txt`)).status).toBe(404);
    expect((await fetch(`${base}/%2e%2e/classbox-early-secret.txt`)).status).toBe(404);
  });

  it('does not start without a built page or on a port already taken', async () => {
    const port = await freePort();
    expect(await EarlyKioskPage.start(port, join(tmpdir(), 'classbox-no-such-page'))).toBeUndefined();
    await start(port, await page());
    expect(await EarlyKioskPage.start(port, await page())).toBeUndefined();
  });

  it("holds the page's WebSocket until the daemon's server has the port, then hands it over", async () => {
    const port = await freePort();
    const early = await start(port, await page());
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    cleanups.push(() => ws.terminate());
    const opened = new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let open = false;
    void opened.then(() => (open = true));
    // The upgrade request reached the early server and waits there, unanswered.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(open).toBe(false);

    // The daemon's server: a plain http server with a WebSocket gateway on upgrade, as Nest's is.
    const daemon: Server = createServer((_req, res) => res.end('daemon'));
    cleanups.push(() => new Promise<void>((resolve) => daemon.close(() => resolve())));
    const wss = new WebSocketServer({ noServer: true });
    cleanups.push(() => wss.close());
    const paths: string[] = [];
    daemon.on('upgrade', (req, socket, head) => {
      paths.push(req.url ?? '');
      wss.handleUpgrade(req, socket, head, (client) => client.on('message', (m) => client.send(`echo ${m}`)));
    });
    early.release();
    await new Promise<void>((resolve, reject) => {
      daemon.once('error', reject);
      daemon.listen(port, '127.0.0.1', () => resolve());
    });
    early.handTo(daemon);
    await opened;
    expect(paths).toEqual(['/ws']);
    const reply = new Promise<string>((resolve) => ws.once('message', (m) => resolve(String(m))));
    ws.send('hello');
    expect(await reply).toBe('echo hello');
    // New requests on the port reach the daemon now.
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('daemon');
  });

  it('drops a held WebSocket when the daemon does not start', async () => {
    const port = await freePort();
    const early = await start(port, await page());
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.on('error', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    early.close();
    await closed;
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});
