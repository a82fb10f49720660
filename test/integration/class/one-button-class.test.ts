import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JanusServer } from '../../../device/demo/janus-server.js';
import { startTeacherServer } from '../../../device/demo/teacher-server.js';
import { KioskBrowserPort } from '../../../device/ports/kiosk-browser.port.js';
import { joinAsTeacher, launchParticipant, teacherSees, waitFor } from '../../helpers/browser.js';
import { startBox, type TestBox } from '../../helpers/box.js';
import { freePort } from '../../helpers/ports.js';

const ROOM = 2222;
const PIN_ROOM = 3333;
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'screens');

interface PageRemote {
  display: string;
  framesDecoded: number;
  width: number;
  audioTracks: number;
}

describe('the one-button class, with a real Janus and real Chromium', () => {
  let janus: JanusServer;
  let teacherSite: Awaited<ReturnType<typeof startTeacherServer>>;
  let teacherBrowser: Awaited<ReturnType<typeof launchParticipant>>;
  let teacher: Page;
  let box: TestBox;

  const kiosk = () => box.daemon.app.get(KioskBrowserPort);
  const pageRemote = () => kiosk().evaluate<PageRemote[]>('window.classbox.remote()');
  const shot = async (name: string) => {
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, `${name}.png`), await kiosk().screenshot());
  };

  beforeAll(async () => {
    janus = new JanusServer({
      rooms: [
        { room: ROOM, description: 'Long March Belt test class' },
        { room: PIN_ROOM, description: 'pinned room', pin: '2468' },
      ],
      wsPort: await freePort(),
      // Candidates both ways: Janus trickles its own to the box's page through the daemon.
      fullTrickle: true,
    });
    await janus.start();
    teacherSite = await startTeacherServer();
    teacherBrowser = await launchParticipant();
    teacher = await joinAsTeacher(teacherBrowser.browser, teacherSite.url, {
      janus: janus.url,
      room: ROOM,
      display: '王老师 Teacher Wang',
    });
    box = await startBox({ janus: { url: janus.url, room: ROOM } });
    await waitFor(
      async () => (await box.status()).health.kiosk?.status === 'ok',
      20_000,
      'the kiosk page to connect',
    );
    await waitFor(
      async () => (await box.status()).health.server?.status === 'ok',
      10_000,
      'the warm Janus session',
    );
  }, 90_000);

  afterAll(async () => {
    await box?.stop();
    await teacherBrowser?.close();
    await teacherSite?.close();
    await janus?.stop();
  });

  it('shows the idle screen with the camera warm before any press', async () => {
    const status = await box.status();
    expect(status.state).toBe('idle');
    expect(status.remoteFeeds).toEqual([]);
    await waitFor(() => kiosk().evaluate<number>('window.classbox.selfFrames()'), 10_000, 'self-view frames');
    await shot('idle-1280x720');
  });

  it('goes live on a press: the teacher decodes the box, the box plays the teacher', async () => {
    const after = await box.press('class');
    expect(['joining', 'live']).toContain(after.state);
    const live = await box.waitForState('live');
    expect(live.feed).toMatch(/^\d+$/);

    const seen = await waitFor(
      async () => {
        const list = await teacherSees(teacher);
        const mine = list.find((r) => r.display === '瑞金教学点');
        return mine && mine.framesDecoded > 10 && mine.audioBytes > 1000 ? mine : undefined;
      },
      20_000,
      'the teacher to decode the box video and receive its audio',
    );
    expect(seen.feed).toBe(live.feed);

    const withTeacher = await waitFor(
      async () => {
        const s = await box.status();
        return s.remoteFeeds.some((f) => f.display === '王老师 Teacher Wang') ? s : undefined;
      },
      10_000,
      'the box to list the teacher',
    );
    expect(withTeacher.remoteFeeds).toHaveLength(1);

    const playing = await waitFor(
      async () => {
        const list = await pageRemote();
        const t = list.find((r) => r.display === '王老师 Teacher Wang');
        return t && t.framesDecoded > 10 && t.width > 0 ? t : undefined;
      },
      20_000,
      'the kiosk page to play the teacher video',
    );
    expect(playing.audioTracks).toBe(1);
    await shot('live-teacher-1280x720');
  });

  it('treats a short press in class as a bump: the class goes on', async () => {
    const status = await box.press('class', 150);
    expect(status.state).toBe('live');
    await new Promise((r) => setTimeout(r, 300));
    expect((await box.status()).state).toBe('live');
  });

  it('shows a second centre that joins mid-class, and removes it when it leaves', async () => {
    const other = await launchParticipant();
    try {
      const centre = await joinAsTeacher(other.browser, teacherSite.url, {
        janus: janus.url,
        room: ROOM,
        display: '井冈山教学点',
      });
      await waitFor(
        async () => (await box.status()).remoteFeeds.length === 2,
        20_000,
        'the second centre on the box',
      );
      await waitFor(
        async () => {
          const list = await pageRemote();
          return list.length === 2 && list.every((r) => r.framesDecoded > 5);
        },
        20_000,
        'the page to play both remote feeds',
      );
      await shot('live-two-centres-1280x720');
      await centre.evaluate('window.teacher.leave()');
      await waitFor(
        async () => (await box.status()).remoteFeeds.length === 1,
        20_000,
        'the second centre to go',
      );
      await waitFor(
        async () => (await pageRemote()).length === 1,
        10_000,
        'the page to drop the second centre',
      );
    } finally {
      await other.close();
    }
  });

  it('ends the class only on a hold; the teacher sees the box go and the camera stays warm', async () => {
    const status = await box.press('class', box.config.session.endHoldMs + 300);
    expect(['leaving', 'idle']).toContain(status.state);
    await box.waitForState('idle');
    await waitFor(
      async () => !(await teacherSees(teacher)).some((r) => r.display === '瑞金教学点'),
      15_000,
      'the teacher to see the box go',
    );
    const before = await kiosk().evaluate<number>('window.classbox.selfFrames()');
    await waitFor(
      async () => (await kiosk().evaluate<number>('window.classbox.selfFrames()')) > before + 5,
      5000,
      'self-view still playing',
    );
    expect((await box.status()).remoteFeeds).toEqual([]);
  });

  it('can start a second class on the same warm session', async () => {
    await box.press('class');
    await box.waitForState('live');
    await waitFor(
      async () => (await teacherSees(teacher)).some((r) => r.display === '瑞金教学点' && r.framesDecoded > 5),
      20_000,
      'the teacher to see the box again',
    );
    await box.press('class', box.config.session.endHoldMs + 300);
    await box.waitForState('idle');
  });
});

describe('a class that cannot start', () => {
  let janus: JanusServer;

  beforeAll(async () => {
    janus = new JanusServer({
      rooms: [{ room: PIN_ROOM, description: 'pinned room', pin: '2468' }],
      wsPort: await freePort(),
    });
    await janus.start();
  }, 30_000);

  afterAll(async () => {
    await janus?.stop();
  });

  it.each([
    ['a wrong room pin', { room: PIN_ROOM, pin: 'wrong' }, 'E-ROOM-PIN'],
    ['a room that does not exist', { room: 9999 }, 'E-ROOM-MISSING'],
  ])('shows a clear error for %s', async (_name, janusConfig, code) => {
    const box = await startBox({ janus: { url: janus.url, ...janusConfig } });
    try {
      await waitFor(async () => (await box.status()).health.kiosk?.status === 'ok', 20_000, 'the kiosk page');
      await box.press('class');
      const status = await box.waitForState('error');
      expect(status.errorCode).toBe(code);
      await waitFor(
        async () =>
          (await box.daemon.app.get(KioskBrowserPort).evaluate<string>('document.body.innerText')).includes(
            `代码 Code: ${code}`,
          ),
        5000,
        `the error screen to show ${code}`,
      );
      await mkdir(ARTIFACTS, { recursive: true });
      await writeFile(
        join(ARTIFACTS, `error-${code}-1280x720.png`),
        await box.daemon.app.get(KioskBrowserPort).screenshot(),
      );
    } finally {
      await box.stop();
    }
  });
});
