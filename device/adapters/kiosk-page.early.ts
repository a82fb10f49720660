import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { packageRoot } from '../../common/package-root.js';

/** The kiosk page's built files (vite build), served on the same loopback port as the API. */
export function kioskPageDir(): string {
  return join(packageRoot(), 'dist', 'kiosk-page');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

interface HeldUpgrade {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
}

/**
 * The kiosk page served before the daemon's modules are loaded (issue 17). Chromium's launch and its
 * first page load were the longest part of start → READY=1, and the page could only load once Nest had
 * initialised and listened. This server takes the control port first (plain node:http, nothing else
 * loaded), so the early Chromium loads the page while the daemon loads and initialises; then it lets go
 * of the port for the daemon's own server and passes on the page's WebSocket, which it held unanswered
 * meanwhile. The page is static: the files vite built, read once into memory (only those paths exist,
 * so no request can name another file).
 */
export class EarlyKioskPage {
  private readonly held = new Set<HeldUpgrade>();
  private target: Server | undefined;
  private released = false;

  private constructor(
    private readonly server: Server,
    private readonly files: ReadonlyMap<string, Buffer>,
  ) {}

  /**
   * Listens on 127.0.0.1:`port` with the page from `dir`; undefined when it can't (no built page, the
   * port taken): the daemon then starts as before and reports a taken port itself.
   */
  static async start(port: number, dir = kioskPageDir()): Promise<EarlyKioskPage | undefined> {
    const files = await readPage(dir).catch(() => undefined);
    if (!files?.has('/index.html')) return undefined;
    const server = createServer();
    const early = new EarlyKioskPage(server, files);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => early.serve(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      early.upgrade(req, socket, head),
    );
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    return listening ? early : undefined;
  }

  /**
   * Stops taking connections, so the daemon's server can listen on the port at once. Connections
   * already open are still answered (and closed after their response).
   */
  release(): void {
    this.released = true;
    this.server.close();
    this.server.closeIdleConnections();
  }

  /** The daemon's server listens: the held WebSocket upgrades, and any arriving later here, go to it. */
  handTo(target: Server): void {
    this.release();
    this.target = target;
    for (const upgrade of this.held) target.emit('upgrade', upgrade.req, upgrade.socket, upgrade.head);
    this.held.clear();
  }

  /** The daemon did not start: drop every connection. */
  close(): void {
    this.release();
    this.server.closeAllConnections();
    for (const upgrade of this.held) upgrade.socket.destroy();
    this.held.clear();
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const body = this.files.get(path === '/' ? '/index.html' : path);
    // After the hand-over this connection ends with its response; the next one reaches the daemon.
    if (this.released) res.setHeader('connection', 'close');
    if (!body || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(path === '/' ? '/index.html' : path)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.target) {
      this.target.emit('upgrade', req, socket, head);
      return;
    }
    // Left unanswered until the daemon's gateway is there; the page simply waits for its socket to open.
    const upgrade = { req, socket, head };
    this.held.add(upgrade);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => this.held.delete(upgrade));
  }
}

/** Every file of the built page by its URL path (`/index.html`, `/assets/…`). */
async function readPage(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    // Source maps are only read by developer tools, never by the kiosk; the daemon's server has them.
    if (!entry.isFile() || entry.name.endsWith('.map')) continue;
    const file = join(entry.parentPath, entry.name);
    files.set(`/${relative(dir, file).split(sep).join('/')}`, await readFile(file));
  }
  return files;
}
