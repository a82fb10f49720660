import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/browser.js';
import { Classroom, pageText, teacherDecodesBox } from '../../helpers/classroom.js';

describe('Janus unreachable at start', () => {
  let room: Classroom;
  beforeAll(async () => {
    room = await Classroom.open();
    await room.janus.stopProcess();
  }, 60_000);
  afterAll(async () => room?.close());

  it('says so on the idle screen and on a press, then becomes ready by itself when Janus appears', async () => {
    const box = await room.box({ janus: { connectTimeoutMs: 1000 } });
    await waitFor(
      async () => (await pageText(box)).includes('无法连接课堂服务器'),
      15_000,
      'the idle screen to say the server is unreachable',
    );
    await box.press('class');
    const failed = await box.waitForState('error');
    expect(failed.errorCode).toBe('E-JANUS-UNREACHABLE');
    await waitFor(
      async () => (await pageText(box)).includes('代码 Code: E-JANUS-UNREACHABLE'),
      5000,
      'the error screen',
    );

    await room.janus.start();
    await waitFor(
      async () => (await box.status()).health.server?.status === 'ok',
      15_000,
      'the box to reach Janus by itself',
    );
    const teacher = await room.participant('王老师 Teacher Wang');
    await box.press('class');
    await box.waitForState('live');
    await teacherDecodesBox(teacher);
  });
});

describe('Janus killed mid-class and started again', () => {
  let room: Classroom;
  beforeAll(async () => {
    room = await Classroom.open();
  }, 60_000);
  afterAll(async () => room?.close());

  it('goes back live by itself, and the teacher decodes the box again', async () => {
    const box = await room.box();
    await room.participant('王老师 Teacher Wang');
    await box.press('class');
    await box.waitForState('live');

    await room.janus.stopProcess('SIGKILL');
    await box.waitForState('reconnecting', 20_000);
    await waitFor(
      async () => (await pageText(box)).includes('正在重新连接'),
      5000,
      'the reconnecting notice',
    );

    await room.janus.start();
    const backAt = Date.now();
    await box.waitForState('live', 15_000);
    const seconds = (Date.now() - backAt) / 1000;
    console.log(`live again ${seconds.toFixed(2)} s after Janus was back`);
    // A new Janus knows nobody: the teacher joins it again, and must see the box.
    const teacher = await room.participant('王老师 Teacher Wang (again)');
    await teacherDecodesBox(teacher);
    expect((await box.status()).state).toBe('live');
  });
});
