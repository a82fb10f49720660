import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import puppeteer, { type Page } from 'puppeteer-core';
import { TEACHER_VENDOR_FILES, teacherPageDir } from '../../device/demo/teacher-server.js';
import { CHROMIUM, PARTICIPANT_FLAGS, waitFor } from './browser.js';

/** The teacher page's origin inside the teacher's Chromium: served by the test, not the network. */
const ORIGIN = 'http://localhost:8711';
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript' };

/**
 * A teacher (janus.js) in its own Chromium inside the teacher's network namespace of a Janus started with
 * `teacherLink` (issue 21): cutting the box's link leaves the teacher publishing, so the recording goes on.
 * The page is answered from this process (request interception), on a `localhost` origin so that
 * getUserMedia has the secure context it needs; Chromium talks to puppeteer over a pipe, which crosses
 * the namespace.
 */
export async function launchNetnsTeacher(
  netns: string,
  params: { janus: string; room: number; display: string; record?: boolean },
): Promise<{ page: Page; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'classbox-netns-teacher-'));
  const wrapper = join(dir, 'chromium-in-netns');
  await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec '${netns}' '${CHROMIUM}' "$@"\n`);
  await chmod(wrapper, 0o755);
  const browser = await puppeteer.launch({
    executablePath: wrapper,
    headless: true,
    pipe: true,
    userDataDir: join(dir, 'profile'),
    // The page comes from the test (interception), so Chromium can't place its origin on the network and
    // treats it as public: its Local Network Access checks would then block the WebSocket to Janus.
    args: [...PARTICIPANT_FLAGS, '--disable-features=LocalNetworkAccessChecks'],
  });
  const close = async (): Promise<void> => {
    const proc = browser.process();
    await Promise.race([browser.close().catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const page = await browser.newPage();
    await page.setRequestInterception(true);
    const root = teacherPageDir();
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin !== ORIGIN) {
        void request.continue();
        return;
      }
      const file =
        TEACHER_VENDOR_FILES[url.pathname] ??
        join(root, normalize(url.pathname === '/' ? '/index.html' : url.pathname));
      void readFile(file).then(
        (body) => request.respond({ status: 200, contentType: TYPES[extname(file)] ?? 'text/plain', body }),
        () => request.respond({ status: 404, body: 'not found' }),
      );
    });
    const query = new URLSearchParams({
      janus: params.janus,
      room: String(params.room),
      display: params.display,
      subscribe: 'none',
      ...(params.record ? { record: '1' } : {}),
    });
    await page.goto(`${ORIGIN}/?${query.toString()}`);
    const said: string[] = [];
    page.on('console', (m) => said.push(m.text()));
    page.on('pageerror', (e) => said.push(String(e)));
    await waitFor(
      () => page.evaluate('window.teacher && window.teacher.state.feed'),
      20_000,
      `${params.display} joined from its namespace`,
    ).catch(async (error: unknown) => {
      const status = await page.evaluate("document.getElementById('status')?.textContent").catch(() => '');
      throw new Error(`${String(error)}; the page said: ${String(status)} ${said.slice(-5).join(' | ')}`);
    });
    return { page, close };
  } catch (error) {
    await close();
    throw error;
  }
}
