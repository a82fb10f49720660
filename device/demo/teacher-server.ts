import { createReadStream, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { packageRoot } from '../../common/package-root.js';

/** Debian's janus.js and webrtc-adapter, served beside the teacher page. */
export const TEACHER_VENDOR_FILES: Record<string, string> = {
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

export interface TeacherServerOptions {
  /**
   * A fleet with media nodes (issue 19): `GET /placement?class=ID` answers the fleet's
   * `/api/v1/admin/classes/{ID}/placement`, so the page (opened with `?class=ID`) finds its class's node
   * and follows it; `?lecture=ROOM` answers `/api/v1/admin/lectures/{ROOM}/placement` (the node the
   * teacher of a lecture spread over nodes publishes on). The admin credential stays in this server.
   */
  readonly fleet?: { readonly url: string; readonly adminToken: string };
}

/** A small static server for the teacher page (demo and tests); loopback only. */
export async function startTeacherServer(
  port = 0,
  options: TeacherServerOptions = {},
): Promise<{ url: string; close(): Promise<void>; server: Server }> {
  const root = teacherPageDir();
  for (const file of Object.values(TEACHER_VENDOR_FILES)) {
    if (!existsSync(file))
      throw new Error(`can't serve the teacher page: ${file} is missing (install janus-demos)`);
  }
  const server = createServer((req, res) => {
    const requested = new URL(req.url ?? '/', 'http://x');
    const path = requested.pathname;
    if (path === '/placement' && options.fleet) {
      const lecture = requested.searchParams.get('lecture');
      const asked =
        lecture !== null
          ? `lectures/${encodeURIComponent(lecture)}`
          : `classes/${encodeURIComponent(requested.searchParams.get('class') ?? '')}`;
      void placement(options.fleet, asked).then(({ status, body }) =>
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(body),
      );
      return;
    }
    const file = TEACHER_VENDOR_FILES[path] ?? join(root, normalize(path === '/' ? '/index.html' : path));
    if (!file.startsWith(root) && !TEACHER_VENDOR_FILES[path]) {
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

/** The fleet's answer for a class or lecture, passed through as it is (a 404 when it is on no node). */
async function placement(
  fleet: NonNullable<TeacherServerOptions['fleet']>,
  asked: string,
): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(
      new URL(`api/v1/admin/${asked}/placement`, `${fleet.url.replace(/\/$/, '')}/`),
      { headers: { authorization: `Bearer ${fleet.adminToken}` }, signal: AbortSignal.timeout(3000) },
    );
    return { status: response.status, body: await response.text() };
  } catch (error) {
    return {
      status: 502,
      body: JSON.stringify({ error: { code: 'E-FLEET-UNREACHABLE', message: String(error) } }),
    };
  }
}
