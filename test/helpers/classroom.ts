import type { Page } from 'puppeteer-core';
import { JanusServer, type RoomSpec } from '../../device/demo/janus-server.js';
import { startTeacherServer } from '../../device/demo/teacher-server.js';
import { KioskBrowserPort } from '../../device/ports/kiosk-browser.port.js';
import { joinAsTeacher, launchParticipant, teacherSees, waitFor } from './browser.js';
import { startBox, type TestBox } from './box.js';
import { freePort } from './ports.js';

export const ROOM = 2222;
export const BOX_NAME = '瑞金教学点';

/** A real Janus in its namespace, the teacher page's server, and helpers to add people and a box. */
export class Classroom {
  janus!: JanusServer;
  private site!: Awaited<ReturnType<typeof startTeacherServer>>;
  private readonly closers: (() => Promise<void>)[] = [];

  static async open(rooms: RoomSpec[] = [{ room: ROOM, description: 'test class' }]): Promise<Classroom> {
    const c = new Classroom();
    c.janus = new JanusServer({ rooms, wsPort: await freePort() });
    await c.janus.start();
    c.site = await startTeacherServer();
    return c;
  }

  /** A participant in its own Chromium (a teacher, another centre), joined to `room`. */
  async participant(
    display: string,
    options: { room?: number } & Omit<Parameters<typeof joinAsTeacher>[2], 'janus' | 'room' | 'display'> = {},
  ): Promise<Page> {
    const p = await launchParticipant();
    this.closers.push(p.close);
    return joinAsTeacher(p.browser, this.site.url, {
      ...options,
      janus: this.janus.url,
      room: options.room ?? ROOM,
      display,
    });
  }

  async box(overrides: Parameters<typeof startBox>[0] = {}): Promise<TestBox> {
    const box = await startBox({
      ...overrides,
      janus: { url: this.janus.url, room: ROOM, ...overrides.janus },
    });
    this.closers.push(() => box.stop());
    await waitFor(
      async () => (await box.status()).health.kiosk?.status === 'ok',
      30_000,
      'the kiosk page to connect',
    );
    // Connected is not drawn: the page shows "Starting up" until its first screen state arrives, and on a
    // busy machine that can come after the daemon already counts the page as connected.
    await waitFor(
      async () => !(await pageText(box)).includes('Starting up…'),
      30_000,
      'the kiosk page to draw its first screen',
    );
    return box;
  }

  /**
   * Stop every box and participant started so far, keeping Janus and the teacher site: the next test
   * starts with an empty room. A box or teacher left from an earlier test keeps sending over the same
   * link, which a test that caps the link then shares with them.
   */
  async leaveAll(): Promise<void> {
    const closers = this.closers.splice(0).reverse();
    for (const close of closers) await close().catch(() => undefined);
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close().catch(() => undefined);
    await this.site?.close();
    await this.janus?.stop();
  }
}

export function kioskOf(box: TestBox): KioskBrowserPort {
  return box.daemon.app.get(KioskBrowserPort);
}

/** Wait until `teacher` decodes at least `frames` more frames of the box's video than now. */
export function teacherDecodesBox(teacher: Page, timeoutMs = 20_000, frames = 10): Promise<void> {
  return teacherGetsMore(teacher, 'framesDecoded', frames, timeoutMs, 'the teacher to decode the box video');
}

/** Wait until `teacher` receives at least `bytes` more audio bytes from the box than now. */
export function teacherHearsBox(teacher: Page, timeoutMs = 20_000, bytes = 2000): Promise<void> {
  return teacherGetsMore(teacher, 'audioBytes', bytes, timeoutMs, 'the teacher to hear the box');
}

async function teacherGetsMore(
  teacher: Page,
  counter: 'framesDecoded' | 'audioBytes',
  more: number,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const fromBox = async () => (await teacherSees(teacher)).find((r) => r.display === BOX_NAME);
  const now = (await fromBox())?.[counter] ?? 0;
  await waitFor(
    async () => {
      const mine = await fromBox();
      return mine !== undefined && mine[counter] >= now + more;
    },
    timeoutMs,
    what,
  );
}

export async function pageText(box: TestBox): Promise<string> {
  return kioskOf(box).evaluate<string>('document.body.innerText');
}
