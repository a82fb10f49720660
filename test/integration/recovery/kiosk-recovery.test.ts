import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/browser.js';
import { Classroom, kioskOf, teacherDecodesBox } from '../../helpers/classroom.js';

describe('Chromium killed mid-class', () => {
  let room: Classroom;
  beforeAll(async () => {
    room = await Classroom.open();
  }, 60_000);
  afterAll(async () => room?.close());

  it('is relaunched, the class republishes, and the teacher decodes the box again', async () => {
    const box = await room.box();
    const teacher = await room.participant('王老师 Teacher Wang');
    await box.press('class');
    await box.waitForState('live');
    await teacherDecodesBox(teacher);

    const pid = kioskOf(box).pid();
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    await box.waitForState('reconnecting', 10_000);
    await waitFor(
      () => kioskOf(box).pid() !== undefined && kioskOf(box).pid() !== pid,
      15_000,
      'a new Chromium',
    );
    await box.waitForState('live', 20_000);
    await teacherDecodesBox(teacher, 20_000);
    const metrics = await (await fetch(`${box.url}/metrics`)).text();
    expect(metrics).toMatch(/classbox_kiosk_restarts_total 1/);
    expect(metrics).toMatch(/classbox_reconnects_total [1-9]/);
  });
});
