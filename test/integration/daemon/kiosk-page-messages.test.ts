import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { setRootLogger } from '../../../common/logger.js';
import { JanusPort } from '../../../device/ports/janus.port.js';
import { FakeJanus } from '../../helpers/fake-janus.js';
import { FakeKioskPage } from '../../helpers/fake-kiosk-page.js';
import { startBox, tcpListener, type Box } from '../hardware/box-harness.js';

/** The daemon's log lines: what it says about the page's messages. */
const logLines: string[] = [];
setRootLogger(
  pino(
    { level: 'info', base: undefined, formatters: { level: (label) => ({ level: label }) } },
    { write: (line: string) => void logLines.push(line) },
  ),
);
const warnings = () =>
  logLines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'warn');

let janusHost: Awaited<ReturnType<typeof tcpListener>> | undefined;
let box: Box | undefined;
let page: FakeKioskPage | undefined;

afterEach(async () => {
  page?.close();
  await box?.stop();
  await janusHost?.close();
});

describe('messages from the kiosk page', () => {
  it('logs and drops a malformed one, naming what is wrong, and goes on with the good ones', async () => {
    janusHost = await tcpListener();
    box = await startBox({ janusPort: janusHost.port, log: { level: 'info' } }, [
      { provide: JanusPort, useClass: FakeJanus },
    ]);
    page = new FakeKioskPage();
    await page.connect(box.url);
    await expect.poll(async () => (await box!.status()).health.kiosk?.status).toBe('ok');

    page.sendRaw('{"type":"media","camera":"sideways","microphone":"ok"}');
    page.sendRaw('{"type":"reply","id":1,"ok":"yes"}');
    page.sendRaw('not json');
    await expect
      .poll(() =>
        warnings()
          .filter((w) => w.msg.startsWith("Can't use kiosk message"))
          .map((w) => w.msg),
      )
      .toEqual([
        expect.stringMatching(/^Can't use kiosk message: camera: /),
        expect.stringMatching(/^Can't use kiosk message: ok: /),
        "Can't use kiosk message: not JSON",
      ]);

    // The page is still the box's page: a press starts the class through it.
    expect((await box.status()).health.kiosk?.status).toBe('ok');
    expect((await box.post('/api/buttons/class/press')).code).toBe(200);
    await expect.poll(async () => (await box!.status()).state).toBe('live');
  });
});
