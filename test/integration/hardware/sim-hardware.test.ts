import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimStillCamera } from '../../../device/adapters/still-camera.sim.js';
import { JanusPort } from '../../../device/ports/janus.port.js';
import { FakeJanus } from '../../helpers/fake-janus.js';
import { FakeKioskPage } from '../../helpers/fake-kiosk-page.js';
import { startBox, tcpListener, type Box } from './box-harness.js';

let janusHost: Awaited<ReturnType<typeof tcpListener>>;
let box: Box | undefined;
let page: FakeKioskPage | undefined;

beforeEach(async () => {
  janusHost = await tcpListener();
});
afterEach(async () => {
  page?.close();
  page = undefined;
  await box?.stop();
  box = undefined;
  await janusHost.close();
});

async function boxWithPage(): Promise<{ box: Box; page: FakeKioskPage }> {
  box = await startBox({ janusPort: janusHost.port }, [{ provide: JanusPort, useClass: FakeJanus }]);
  page = new FakeKioskPage(await new SimStillCamera().capture({}));
  await page.connect(box.url);
  await expect.poll(async () => (await box!.status()).health.kiosk?.status).toBe('ok');
  return { box, page };
}

describe('the box hardware in sim mode, through the control API and the page socket', () => {
  it('runs the self-test on a long hold of the mute button while idle, showing each result and double-blinking the LED', async () => {
    const { box, page } = await boxWithPage();
    page.holdTone = true;
    const unplugged = await box.post('/api/sim/microphone/unplug');
    expect(unplugged.body.health).toMatchObject({
      microphone: { status: 'missing', code: 'E-MICROPHONE-MISSING' },
    });

    const toneAsked = page.next((m) => m.type === 'request' && m.action === 'speaker.tone');
    const press = await box.post('/api/buttons/mute/press', { holdMs: 3300 });
    expect(press.code).toBe(200);
    await toneAsked;

    // Mid-test: the speaker's tone is playing (unanswered), the earlier results are on screen.
    const during = await box.status();
    expect(during.state).toBe('idle');
    expect(during.leds.status).toBe('double-blink');
    expect(during.selfTest).toEqual([
      { check: 'camera', status: 'ok', detail: 'Simulated camera' },
      {
        check: 'microphone',
        status: 'failed',
        code: 'E-MICROPHONE-MISSING',
        detail: 'the simulated microphone is unplugged',
      },
      { check: 'speaker', status: 'running' },
    ]);

    page.releaseTone();
    await expect.poll(async () => (await box.status()).selfTest?.length).toBe(5);
    await expect.poll(async () => (await box.status()).selfTest?.at(-1)?.status).not.toBe('running');
    const after = await box.status();
    expect(after.selfTest!.map((r) => [r.check, r.status])).toEqual([
      ['camera', 'ok'],
      ['microphone', 'failed'],
      ['speaker', 'ok'],
      ['network', 'ok'],
      ['server', 'ok'],
    ]);
    expect(after.selfTest![3]!.detail).toMatch(new RegExp(`^127\\.0\\.0\\.1:${janusHost.port} in \\d+ ms$`));
    expect(after.leds.status).toBe('off');
    expect(page.tones).toEqual([{ hz: 880, ms: 700 }]);

    // The page was told each step, with the failure's code for its zh/en text.
    const screens = page.received
      .filter((m) => m.type === 'screen')
      .map((m) => (m.screen as { selfTest?: unknown }).selfTest);
    expect(screens).toContainEqual([
      { check: 'camera', status: 'ok', detail: 'Simulated camera' },
      {
        check: 'microphone',
        status: 'failed',
        detail: 'E-MICROPHONE-MISSING the simulated microphone is unplugged',
      },
      { check: 'speaker', status: 'running' },
    ]);
    // The self-test hold neither joined a class nor toggled the microphone.
    expect(after.state).toBe('idle');
    expect(after.muted).toBe(false);
  });

  it('fails the microphone check when the page hears nothing', async () => {
    const { box, page } = await boxWithPage();
    page.microphoneLevel = 0;
    await box.post('/api/buttons/mute/press', { holdMs: 3300 });
    await expect.poll(async () => (await box.status()).selfTest?.length, { timeout: 15_000 }).toBe(5);
    await expect.poll(async () => (await box.status()).selfTest?.at(-1)?.status).not.toBe('running');
    expect((await box.status()).selfTest![1]).toMatchObject({
      check: 'microphone',
      status: 'failed',
      code: 'E-MICROPHONE-SILENT',
    });
  });

  it('goes on with sound when the camera is unplugged mid-class and resumes video when it is back', async () => {
    const { box, page } = await boxWithPage();
    const pressed = await box.post('/api/buttons/class/press');
    expect(pressed.code).toBe(200);
    await expect.poll(async () => (await box.status()).state).toBe('live');
    expect((await box.status()).leds).toEqual({ status: 'solid', mute: 'off' });

    const videoOff = page.upcoming((m) => m.type === 'publisher.video');
    const unplugged = await box.post('/api/sim/camera/unplug');
    expect(unplugged.body).toMatchObject({
      state: 'live',
      health: { camera: { status: 'missing', code: 'E-CAMERA-MISSING' } },
    });
    expect(await videoOff).toEqual({ type: 'publisher.video', enabled: false });
    await page.next((m) => m.type === 'screen' && (m.screen as { audioOnly: boolean }).audioOnly);

    const videoOn = page.upcoming((m) => m.type === 'publisher.video');
    const plugged = await box.post('/api/sim/camera/plug');
    expect(plugged.body).toMatchObject({ state: 'live', health: { camera: { status: 'ok' } } });
    expect(await videoOn).toEqual({ type: 'publisher.video', enabled: true });
    expect((await box.status()).state).toBe('live');

    // The mute button, its LED and the page's sign follow the microphone.
    const muted = await box.post('/api/buttons/mute/press');
    expect(muted.body).toMatchObject({ muted: true, leds: { mute: 'solid' } });
    await page.next((m) => m.type === 'mute' && m.muted === true);

    await box.post('/api/buttons/class/press', { holdMs: 1200 });
    await expect.poll(async () => (await box.status()).state).toBe('idle');
    expect((await box.status()).leds.status).toBe('off');
  });

  it('serves a camera snapshot from the page while it shows the camera, else from the camera', async () => {
    const { box, page } = await boxWithPage();
    const fromPage = await fetch(`${box.url}/api/camera/snapshot`);
    expect(fromPage.status).toBe(200);
    expect(fromPage.headers.get('content-type')).toBe('image/jpeg');
    expect(fromPage.headers.get('x-classbox-snapshot-source')).toBe('page');
    const image = Buffer.from(await fromPage.arrayBuffer());
    expect([...image.subarray(0, 2)]).toEqual([0xff, 0xd8]);

    page.close();
    await expect.poll(async () => (await box.status()).health.kiosk?.status).toBe('error');
    const fromCamera = await fetch(`${box.url}/api/camera/snapshot`);
    expect(fromCamera.status).toBe(200);
    expect(fromCamera.headers.get('x-classbox-snapshot-source')).toBe('camera');
  });

  it('reports every device with a status, code and words in /api/status', async () => {
    box = await startBox({ janusPort: janusHost.port }, [{ provide: JanusPort, useClass: FakeJanus }]);
    await expect.poll(async () => (await box!.status()).health.speaker?.status).toBe('ok');
    const { health } = await box.status();
    expect(health).toMatchObject({
      camera: { status: 'ok', detail: 'Simulated camera' },
      microphone: { status: 'ok', detail: 'Simulated microphone' },
      speaker: { status: 'ok', detail: 'Simulated speaker' },
      kiosk: { status: 'missing', code: 'E-KIOSK-DOWN' },
    });
  });

  it('boots with the real pi adapters on a machine without a header, and refuses simulated hot-plug', async () => {
    box = await startBox({ janusPort: janusHost.port, hardware: { mode: 'pi' } }, [
      { provide: JanusPort, useClass: FakeJanus },
    ]);
    // This machine has no GPIO header: the daemon stays up and says why the buttons don't work.
    const { health } = await box.status();
    expect(health.buttons).toMatchObject({
      status: 'error',
      code: 'E-GPIO-CHIP',
      detail: expect.stringContaining('GPIO 17 (BCM) for the class button has no line'),
    });
    const answer = await box.post('/api/sim/camera/unplug');
    expect(answer.code).toBe(409);
    expect(answer.body.message).toBe('plugging the camera can only be simulated when hardware.mode is "sim"');
    const press = await box.post('/api/buttons/class/press');
    expect(press.code).toBe(409);
    expect(press.body.message).toBe('pressing a button can only be simulated when hardware.mode is "sim"');
    expect((await box.post('/api/sim/speaker/unplug')).code).toBe(404);
  });
});
