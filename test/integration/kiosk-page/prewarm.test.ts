import { createReadStream, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { Page } from 'puppeteer-core';
import { WebSocketServer, type WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kioskPageDir } from '../../../device/daemon.js';
import { launchParticipant, waitFor } from '../../helpers/browser.js';

// The real built page in headless Chromium with fake media, driven by a scripted daemon that
// records everything the page says: what the page prepares while idle, and what it keeps to itself.
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

interface PageMessage {
  type: string;
  id?: number;
  ok?: boolean;
  jsep?: { type: string; sdp: string };
  target?: string;
  candidate?: unknown;
}

describe('the kiosk page while idle (pre-warm, issue 17)', () => {
  let server: Server;
  let wss: WebSocketServer;
  let socket: WebSocket | undefined;
  let heard: PageMessage[] = [];
  let url: string;
  let participant: Awaited<ReturnType<typeof launchParticipant>>;
  let page: Page;

  beforeAll(async () => {
    const root = kioskPageDir();
    if (!existsSync(join(root, 'index.html'))) throw new Error(`${root} is missing: run npm run build first`);
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const file = join(root, normalize(path === '/' ? '/index.html' : path));
      if (!file.startsWith(root) || !existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
    });
    wss = new WebSocketServer({ server, path: '/ws' });
    wss.on('connection', (ws) => {
      socket = ws;
      ws.on('message', (data) => heard.push(JSON.parse(String(data)) as PageMessage));
      ws.send(
        JSON.stringify({
          type: 'config',
          media: { width: 640, height: 480, fps: 15 },
          iceServers: [],
          bitrateKbps: 512,
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    participant = await launchParticipant();
    page = await participant.browser.newPage();
    await page.goto(url);
    await waitFor(() => socket, 10_000, 'the page to connect');
  }, 60_000);

  afterAll(async () => {
    await participant?.close();
    wss?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  let nextId = 1;
  const offer = async (): Promise<string> => {
    const id = nextId++;
    socket!.send(
      JSON.stringify({ type: 'request', id, action: 'publisher.offer', audio: true, video: true }),
    );
    const reply = await waitFor(
      () => heard.find((m) => m.type === 'reply' && m.id === id),
      10_000,
      'the offer',
    );
    expect(reply.ok).toBe(true);
    return reply.jsep!.sdp;
  };
  /** The page says it has a publisher ready: offer set and its candidates gathered. */
  const prepared = () =>
    waitFor(
      async () => (await page.evaluate('window.classbox.prepared()')) === 'ready',
      10_000,
      'a prepared publisher',
    );
  /** The codec names of the offer's video m-line. */
  const videoCodecs = (sdp: string): string[] => {
    const video = sdp.split('m=video')[1]?.split('\r\nm=')[0] ?? '';
    return [...video.matchAll(/^a=rtpmap:\d+ ([^/]+)\//gm)].map((m) => m[1]!);
  };
  const candidateLines = (sdp: string): number =>
    sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')).length;

  it('hands over an offer whose ICE candidates were gathered before the press, and sent nothing before it', async () => {
    await waitFor(
      () => heard.some((m) => m.type === 'media' && (m as { camera?: string }).camera === 'ok'),
      10_000,
      'the camera',
    );
    await prepared();
    expect(heard.filter((m) => m.type === 'candidate')).toEqual([]);
    const sdp = await offer();
    expect(sdp).toContain('m=video');
    expect(sdp).toContain('m=audio');
    expect(candidateLines(sdp)).toBeGreaterThan(0);
    // The prepared offer already carries the codec choice (issue 16): VP8 and its helpers, nothing else.
    expect(videoCodecs(sdp)).toContain('VP8');
    expect(
      videoCodecs(sdp).filter((c) => !['VP8', 'rtx', 'red', 'ulpfec', 'flexfec-03'].includes(c)),
    ).toEqual([]);
  });

  it('prepares the next offer after the class ends, again without sending anything', async () => {
    socket!.send(JSON.stringify({ type: 'publisher.close' }));
    heard = [];
    await prepared();
    expect(heard.filter((m) => m.type === 'candidate')).toEqual([]);
    const sdp = await offer();
    expect(candidateLines(sdp)).toBeGreaterThan(0);
    socket!.send(JSON.stringify({ type: 'publisher.close' }));
  });
});
