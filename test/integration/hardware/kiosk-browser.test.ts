import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, PuppeteerKiosk } from '../../../device/adapters/kiosk-browser.puppeteer.js';
import { deviceConfigSchema, type DeviceConfig } from '../../../device/config/device-config.schema.js';
import { ConfigService } from '../../../device/services/config.service.js';
import { CHROMIUM } from '../../helpers/browser.js';

const config = (kiosk: Partial<DeviceConfig['kiosk']>): DeviceConfig =>
  deviceConfigSchema.parse({
    device: { id: 'jx-test-01', displayName: '测试教学点' },
    janus: { url: 'ws://127.0.0.1:8188', room: 1234 },
    kiosk,
  });

describe("the kiosk's Chromium command line", () => {
  it('asks for Wayland on the box, whatever Chromium would pick by itself', () => {
    const box = config({});
    const args = chromiumArgs(box.kiosk, { WAYLAND_DISPLAY: 'wayland-0' }, false);
    expect(args).toContain('--ozone-platform=wayland');
    expect(args).toEqual(expect.arrayContaining(['--kiosk', '--start-fullscreen']));
    expect(args).not.toContain('--no-sandbox');
  });

  it('leaves the platform alone headless (tests) and without a Wayland session (the demo on X11)', () => {
    expect(
      chromiumArgs(config({ headless: true }).kiosk, { WAYLAND_DISPLAY: 'wayland-0' }, true),
    ).not.toContain('--ozone-platform=wayland');
    expect(chromiumArgs(config({ fullscreen: false }).kiosk, { DISPLAY: ':0' }, false)).not.toContain(
      '--ozone-platform=wayland',
    );
  });
});

describe('PuppeteerKiosk on a real (headless) Chromium', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><html><head></head><body><p>classbox</p></body></html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('hides the pointer on the full-screen page, after a reload too, and not in a windowed demo', async () => {
    const cursor = async (fullscreen: boolean) => {
      const kiosk = new PuppeteerKiosk(
        new ConfigService(config({ headless: true, fullscreen, chromiumPath: CHROMIUM })),
      );
      try {
        await kiosk.ensureStarted(url);
        const first = await kiosk.evaluate<string>('getComputedStyle(document.querySelector("p")).cursor');
        // A reloaded page (the daemon reloads a hung one) is a new document: the style must come back.
        await kiosk.evaluate('window.beforeReload = true; location.reload()');
        const reloaded = 'window.beforeReload === undefined && document.readyState === "complete"';
        for (let i = 0; i < 100; i++) {
          if (await kiosk.evaluate<boolean>(reloaded).catch(() => false)) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        const again = await kiosk.evaluate<string>('getComputedStyle(document.querySelector("p")).cursor');
        return [first, again];
      } finally {
        await kiosk.ensureStopped();
      }
    };
    expect(await cursor(true)).toEqual(['none', 'none']);
    expect(await cursor(false)).toEqual(['auto', 'auto']);
  }, 60_000);
});
