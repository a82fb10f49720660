import { createReadStream, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { packageRoot } from '../../common/package-root.js';

/** Debian's janus.js and webrtc-adapter, served beside the teacher page. */
const VENDOR: Record<string, string> = {
  '/janus.js': '/usr/share/javascript/janus-gateway/janus.js',
  '/adapter.js': '/usr/share/javascript/webrtc-adapter/adapter.js',
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

export function teacherPageDir(): string {
  return join(packageRoot(), 'device', 'demo', 'teacher-page');
}

/** A small static server for the teacher page (demo and tests); loopback only. */
export async function startTeacherServer(
  port = 0,
): Promise<{ url: string; close(): Promise<void>; server: Server }> {
  const root = teacherPageDir();
  for (const file of Object.values(VENDOR)) {
    if (!existsSync(file))
      throw new Error(`can't serve the teacher page: ${file} is missing (install janus-demos)`);
  }
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = VENDOR[path] ?? join(root, normalize(path === '/' ? '/index.html' : path));
    if (!file.startsWith(root) && !VENDOR[path]) {
      res.writeHead(404).end();
      return;
    }
    if (!existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
