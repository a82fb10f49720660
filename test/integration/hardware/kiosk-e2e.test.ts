import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/browser.js';
import { Classroom, kioskOf, pageText, teacherDecodesBox, teacherHearsBox } from '../../helpers/classroom.js';

// The simulated hardware end to end: the real daemon, its real kiosk page in Chromium, a real Janus and a teacher.
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'screens');

describe('hot-plug and self-test, with the kiosk page', () => {
  let room: Classroom;
  beforeAll(async () => {
    room = await Classroom.open();
  }, 60_000);
  afterAll(async () => room?.close());

  it('goes on with sound when the camera is unplugged mid-class, and video resumes when it is back', async () => {
    const box = await room.box();
    const teacher = await room.participant('王老师 Teacher Wang');
    await box.press('class');
    await box.waitForState('live');
    await teacherDecodesBox(teacher);

    const unplugged = await fetch(`${box.url}/api/sim/camera/unplug`, { method: 'POST' });
    expect(unplugged.status).toBe(200);
    await waitFor(
      async () => (await pageText(box)).includes('摄像头已断开'),
      10_000,
      'the camera warning on screen',
    );
    const status = await box.status();
    expect(status.state).toBe('live');
    expect(status.network).toMatchObject({ audioOnly: true, audioOnlyReason: 'camera' });
    await teacherHearsBox(teacher);
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(
      join(ARTIFACTS, 'live-camera-unplugged-real-1280x720.png'),
      await kioskOf(box).screenshot(),
    );

    await fetch(`${box.url}/api/sim/camera/plug`, { method: 'POST' });
    await waitFor(async () => !(await box.status()).network.audioOnly, 10_000, 'video wanted again');
    await teacherDecodesBox(teacher, 20_000);
    expect((await box.status()).state).toBe('live');
    await box.press('class', box.config.session.endHoldMs + 300);
    await box.waitForState('idle');
  });

  it('runs the self-test on a 5 s hold of the mute button while idle and shows each result on screen', async () => {
    const box = await room.box();
    expect(await pageText(box)).toContain('按住静音按钮');
    const done = box.press('mute', box.config.session.selfTestHoldMs + 400);
    await waitFor(async () => (await pageText(box)).includes('设备自检'), 15_000, 'the self-test on screen');
    await done;
    const status = await waitFor(
      async () => {
        const s = await box.status();
        return s.selfTest && s.selfTest.every((r) => r.status !== 'running') ? s : undefined;
      },
      30_000,
      'the self-test to finish',
    );
    expect(status.state).toBe('idle');
    expect(status.selfTest?.map((r) => r.check)).toEqual([
      'camera',
      'microphone',
      'speaker',
      'network',
      'server',
    ]);
    expect(status.selfTest?.filter((r) => r.status !== 'ok')).toEqual([]);
    const words = ['摄像头：正常', '麦克风：正常', '网络：正常', '课堂服务器：正常'];
    await waitFor(
      async () => {
        const text = await pageText(box);
        return words.every((w) => text.includes(w));
      },
      5000,
      `the screen to say ${words.join(', ')}`,
    );
    await writeFile(join(ARTIFACTS, 'self-test-real-1280x720.png'), await kioskOf(box).screenshot());
  });
});
