import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/browser.js';
import { Classroom, pageText, teacherDecodesBox, teacherHearsBox } from '../../helpers/classroom.js';

// Janus sits in its own network namespace; the veth pair is "the box's link". The teacher's
// browser uses the same link, so after a cut a fresh teacher joins to check what the box sends.
describe('the box on a bad network', () => {
  let room: Classroom;
  beforeAll(async () => {
    room = await Classroom.open();
  }, 60_000);
  // Each test on an empty room: the first test's box and teachers kept publishing over the link the
  // second one caps to 150 kbit/s, so the box under test shared it with them, and now and then never
  // fell back to sound only, or was not heard (a race CI showed once in three runs).
  afterEach(async () => {
    await room?.janus.setUplinkRate(undefined).catch(() => undefined);
    await room?.leaveAll();
  }, 60_000);
  afterAll(async () => {
    await room?.close();
  });

  it('comes back live after its link is cut for 30 s', async () => {
    const box = await room.box();
    await room.participant('王老师 Teacher Wang');
    await box.press('class');
    await box.waitForState('live');

    await room.janus.setLink(false);
    await box.waitForState('reconnecting', 30_000);
    await waitFor(
      async () => (await pageText(box)).includes('正在重新连接'),
      5000,
      'the reconnecting notice',
    );
    await new Promise((r) => setTimeout(r, 30_000 - 0));
    await room.janus.setLink(true);

    await box.waitForState('live', 30_000);
    const teacher = await room.participant('王老师 Teacher Wang (after the cut)');
    await teacherDecodesBox(teacher, 30_000);
  }, 150_000);

  it('falls back to sound only on a 150 kbit/s uplink, and brings video back when the cap goes', async () => {
    const box = await room.box({ network: { probeSeconds: 6 }, media: { profile: 'pi4' } });
    // A teacher sending sound only, so the capped link is the box's to use.
    const teacher = await room.participant('王老师 Teacher Wang (audio)', { audioOnly: true });
    await box.press('class');
    await box.waitForState('live');
    await teacherDecodesBox(teacher);

    await room.janus.setUplinkRate(150);
    const audioOnly = await waitFor(
      async () => {
        const s = await box.status();
        return s.network.audioOnlyReason === 'uplink' ? s : undefined;
      },
      60_000,
      'the box to fall back to sound only',
    );
    expect(audioOnly.state).toBe('live');
    await waitFor(async () => (await pageText(box)).includes('只传送声音'), 5000, 'the sound-only notice');
    await teacherHearsBox(teacher, 20_000);

    await room.janus.setUplinkRate(undefined);
    const recovered = Date.now();
    await waitFor(async () => !(await box.status()).network.audioOnly, 90_000, 'video to come back');
    // A figure, not asserted (timings belong in the bench): the target is 10 s.
    console.log(`video back ${Date.now() - recovered} ms after the cap went (issue 16: target 10 s)`);
    // After sound only the encoder's bandwidth estimate starts low: a try starts with the small picture
    // (issue 16) and may fall back again; the next try, one wait later, brings it back for good.
    await teacherDecodesBox(teacher, 90_000);
  }, 300_000);
});
