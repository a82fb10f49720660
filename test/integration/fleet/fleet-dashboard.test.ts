import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchParticipant } from '../../helpers/browser.js';
import { packageRoot } from '../../../common/package-root.js';
import { writeSeedFiles } from '../../../provisioning/adapters/seed-files.fs.js';
import { CameraPort } from '../../../device/ports/camera.port.js';
import type { SimCamera } from '../../../device/adapters/camera.sim.js';
import { HealthService } from '../../../device/services/health.service.js';
import { startFleetServer, type RunningFleetServer } from '../../../provisioning/fleet-server.js';
import { connectFakePage } from '../../helpers/fake-kiosk-page.js';
import { eventually, startSimBox, writeFleetBoxConfig, type SimBox } from '../../helpers/sim-box.js';
import { generateAdminToken } from '../../../provisioning/services/admin-auth.service.js';

const ADMIN = generateAdminToken();
const ARTIFACTS = join(packageRoot(), 'test-artifacts', 'fleet');

/** IT's dashboard in real Chromium, watching a real sim box. */
describe.skipIf(!hasChromium())('fleet dashboard in Chromium', () => {
  let dir: string;
  let server: RunningFleetServer;
  let box: SimBox;
  let chromium: Awaited<ReturnType<typeof launchParticipant>> | undefined;
  let browser: Browser;
  let page: Page;
  let kioskPage: Awaited<ReturnType<typeof connectFakePage>>;

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/api/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return (await response.json()) as Record<string, unknown> & {
      tokens: { seed: never; deviceId: string; status: string }[];
    };
  };
  const boxState = async () =>
    ((await (await fetch(`${box.daemon.url}/api/status`)).json()) as { state: string }).state;
  const row = (id: string) => `tr.device-row[data-device="${id}"]`;
  const rowText = (id: string) => page.$eval(row(id), (el) => el.textContent ?? '');
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'classbox-dashboard-'));
    server = await startFleetServer({
      db: join(dir, 'fleet.db'),
      port: 0,
      host: '127.0.0.1',
      firstAdminToken: ADMIN,
    });
    await admin('POST', '/centres', {
      id: 'jx-ruijin',
      name: '瑞金教学点',
      region: '江西',
      room: { janusUrl: 'ws://janus.example.cn:8188', room: 1234 },
      timetable: [{ title: '高等数学', weekday: 1, start: '09:00', end: '10:30' }],
    });
    const minted = await admin('POST', '/centres/jx-ruijin/enrolment-tokens', {
      count: 1,
      expiresInSeconds: 3600,
    });
    const [seedFile] = await writeSeedFiles(join(dir, 'seeds'), [minted.tokens[0]!.seed]);
    box = await startSimBox(await writeFleetBoxConfig(dir, server.url, seedFile!));
    await eventually('the box enrols', () => box.enrolment.isEnrolled());
    kioskPage = await connectFakePage(box.daemon.url);
    // A headless Chromium as the other browser tests start it (its fake camera is not used here).
    chromium = await launchParticipant();
    browser = chromium.browser;
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
  });

  afterAll(async () => {
    await chromium?.close();
    kioskPage?.close();
    await box?.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('asks for the admin credential and refuses a wrong one', async () => {
    await page.goto(server.url);
    await page.waitForSelector('#login-token');
    await page.type('#login-token', 'cbx_admin_wrong_0000000000000000');
    await page.click('#login-button');
    await page.waitForSelector('.error');
    expect(await page.$eval('.error', (el) => el.textContent)).toMatch(/not valid/);
  });

  it('lists the enrolled box as online and in class while it is', async () => {
    await fetch(`${box.daemon.url}/api/buttons/class/press`, { method: 'POST' });
    await eventually('the class is live', async () => (await boxState()) === 'live');
    await box.fleet.tick();
    await page.goto(server.url);
    await page.waitForSelector('#login-token');
    await page.$eval('#login-token', (el) => ((el as unknown as { value: string }).value = ''));
    await page.type('#login-token', ADMIN);
    await page.click('#login-button');
    await page.waitForSelector(row('jx-ruijin-01'));
    expect(await page.$(`${row('jx-ruijin-01')} .status-online`)).not.toBeNull();
    expect(await page.$(`${row('jx-ruijin-01')} .in-class`)).not.toBeNull();
    expect(await rowText('jx-ruijin-01')).toContain('瑞金教学点');
    await shot('overview-in-class');
  });

  it('shows a health problem', async () => {
    (box.daemon.app.get(CameraPort) as SimCamera).simulatePlugged(false);
    await box.daemon.app.get(HealthService).checkDevices();
    await box.fleet.tick();
    await page.reload();
    await page.waitForSelector(`${row('jx-ruijin-01')} td.problems`);
    expect(await rowText('jx-ruijin-01')).toContain('camera: E-CAMERA-MISSING');
    await shot('overview-health-problem');
  });

  it('takes a camera snapshot of the box', async () => {
    await page.click(`${row('jx-ruijin-01')} button[data-action="snapshot"]`);
    await page.waitForSelector(`${row('jx-ruijin-01')} .ok`);
    await box.fleet.tick();
    await page.waitForSelector('#panel img.snapshot');
    expect(await page.$eval('#panel', (el) => el.textContent ?? '')).toContain('jx-ruijin-01');
    await shot('overview-snapshot');
  });

  it('stops showing the box in class once the class ends', async () => {
    await fetch(`${box.daemon.url}/api/buttons/class/press`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ holdMs: 700 }),
    });
    await eventually('the class ends', async () => (await boxState()) === 'idle');
    await box.fleet.tick();
    await page.reload();
    await page.waitForSelector(`${row('jx-ruijin-01')} .status-online`);
    expect(await page.$(`${row('jx-ruijin-01')} .in-class`)).toBeNull();
  });

  it('creates enrolment tokens for a centre', async () => {
    await page.click(`${row('jx-ruijin-01')} a.centre-link`);
    await page.waitForSelector('#token-form');
    await page.$eval('#token-count', (el) => ((el as unknown as { value: string }).value = '2'));
    await page.click('#token-create');
    await page.waitForSelector('#token-result .minted');
    const minted = await page.$$eval('#token-result .minted', (els) =>
      els.map((el) => el.getAttribute('data-device')),
    );
    expect(minted).toEqual(['jx-ruijin-02', 'jx-ruijin-03']);
    await page.waitForSelector('#token-list tr[data-device="jx-ruijin-03"]');
    const issued = await admin('GET', '/centres/jx-ruijin/enrolment-tokens');
    expect(
      issued.tokens
        .filter((t) => t.status === 'unused')
        .map((t) => t.deviceId)
        .sort(),
    ).toEqual(['jx-ruijin-02', 'jx-ruijin-03']);
    await shot('centre-tokens-created');
  });

  it('revokes an unused token from the centre page (issue 13)', async () => {
    const revoke = '#token-list tr[data-device="jx-ruijin-03"] .token-revoke';
    await page.waitForSelector(revoke);
    await page.click(revoke);
    await page.waitForFunction(
      `document.querySelector('#token-list tr[data-device="jx-ruijin-03"]')?.textContent.includes('revoked')`,
    );
    expect(await page.$(revoke)).toBeNull();
    const issued = await admin('GET', '/centres/jx-ruijin/enrolment-tokens');
    expect(issued.tokens.find((t) => t.deviceId === 'jx-ruijin-03')?.status).toBe('revoked');
    expect(issued.tokens.find((t) => t.deviceId === 'jx-ruijin-02')?.status).toBe('unused');
    await shot('centre-token-revoked');
  });

  it('saves a new room and timetable for the centre', async () => {
    await page.$eval('#room-room', (el) => ((el as unknown as { value: string }).value = '4321'));
    await page.click('#centre-save');
    // Only the save's own message: the token list above has .ok lines of its own.
    await page.waitForSelector('#centre-save-message .ok');
    const centre = await admin('GET', '/centres/jx-ruijin');
    expect((centre.room as { room: number }).room).toBe(4321);
    expect(centre.timetable).toEqual([{ title: '高等数学', weekday: 1, start: '09:00', end: '10:30' }]);
    await shot('centre-saved');
  });
});
