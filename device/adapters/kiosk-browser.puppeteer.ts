import { Injectable } from '@nestjs/common';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import type { DeviceConfig } from '../config/device-config.schema.js';
import { KioskBrowserPort } from '../ports/kiosk-browser.port.js';
import { ConfigService } from '../services/config.service.js';

// Chromium's own background traffic is useless on the box and refused on closed networks.
const QUIET_FLAGS = [
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
  '--autoplay-policy=no-user-gesture-required',
  '--noerrdialogs',
  '--disable-session-crashed-bubble',
];

type KioskSettings = DeviceConfig['kiosk'];

/**
 * Chromium's command line for the box's screen. On the box (a window, `WAYLAND_DISPLAY` set by
 * classbox.service for the labwc kiosk session) Wayland is asked for explicitly: which platform Chromium
 * picks by itself has changed between versions (issue 12), and X11 does not exist there.
 */
export function chromiumArgs(kiosk: KioskSettings, env: NodeJS.ProcessEnv, runningAsRoot: boolean): string[] {
  const args = [...QUIET_FLAGS, `--window-size=${kiosk.width},${kiosk.height}`, `--lang=${kiosk.language}`];
  // Running as root (CI, containers) needs --no-sandbox; the box runs Chromium as its own user.
  if (runningAsRoot) args.push('--no-sandbox');
  if (kiosk.fakeMedia) args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream');
  if (kiosk.fakeMedia && kiosk.fakeVideoFile)
    args.push(`--use-file-for-fake-video-capture=${kiosk.fakeVideoFile}`);
  if (!kiosk.headless && kiosk.fullscreen) args.push('--kiosk', '--start-fullscreen');
  if (!kiosk.headless && env.WAYLAND_DISPLAY) args.push('--ozone-platform=wayland');
  return args;
}

/** Hides the pointer on the box's screen: nothing on it is clicked (the buttons are physical). */
const HIDE_CURSOR = `document.addEventListener('DOMContentLoaded', () => {
  const style = document.createElement('style');
  style.dataset.classbox = 'kiosk';
  style.textContent = '* { cursor: none !important; }';
  document.head.append(style);
});`;

interface LaunchedChromium {
  readonly browser: Browser;
  readonly profileDir: string;
  /** The page an early launch already opened (permissions granted), and whether it loaded. */
  readonly early?: { readonly page: Page; readonly loaded: Promise<boolean> };
}

/** Chromium as the kiosk runs it, with its own fresh profile; no page opened yet. */
async function launchChromium(kiosk: DeviceConfig['kiosk']): Promise<LaunchedChromium> {
  const profileDir = await mkdtemp(join(tmpdir(), 'classbox-kiosk-'));
  const args = chromiumArgs(kiosk, process.env, process.getuid?.() === 0);
  try {
    const browser = await puppeteer.launch({
      executablePath: kiosk.chromiumPath,
      headless: kiosk.headless,
      pipe: true,
      userDataDir: profileDir,
      ignoreDefaultArgs: ['--enable-automation'],
      defaultViewport: kiosk.headless ? { width: kiosk.width, height: kiosk.height } : null,
      args,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    return { browser, profileDir };
  } catch (error) {
    await rm(profileDir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * The kiosk's tab, made ready for the page: camera and microphone granted to its origin (before the
 * page asks for them, or Chromium would prompt on the box's screen), the pointer hidden on a full screen.
 */
async function preparePage(browser: Browser, url: string, fullscreen: boolean): Promise<Page> {
  await browser.defaultBrowserContext().overridePermissions(new URL(url).origin, ['camera', 'microphone']);
  const [first] = await browser.pages();
  const page = first ?? (await browser.newPage());
  if (fullscreen) await page.evaluateOnNewDocument(HIDE_CURSOR);
  return page;
}

/**
 * Open the page; a Chromium launched early can be ready before the daemon's HTTP server listens
 * (Nest starts the kiosk during its init, before `listen`), so a refused connection is tried again.
 */
async function gotoOnceListening(page: Page, url: string, timeoutMs: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
      return;
    } catch (error) {
      if (attempt >= 100 || !/ERR_CONNECTION_REFUSED/.test(reason(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * Chromium launched before the daemon's modules are loaded (issue 17): its ~0.7 s start runs on
 * the other core alongside module loading and Nest's init instead of after them. The kiosk adapter
 * takes it over on its first start; a launch that failed is simply done again there.
 */
export class ChromiumPrelaunch {
  private launched: Promise<LaunchedChromium> | undefined;

  private constructor(launched: Promise<LaunchedChromium> | undefined) {
    this.launched = launched;
    // Taken over later (or discarded): a failure here is reported by the adapter's own launch.
    launched?.catch(() => undefined);
  }

  /**
   * With `pageUrl` (the page is already served, `EarlyKioskPage`) the new Chromium also opens the page
   * at once, so its first load overlaps the daemon's init too; the adapter then only watches it.
   */
  static start(kiosk: DeviceConfig['kiosk'], pageUrl?: Promise<string | undefined>): ChromiumPrelaunch {
    const launching = launchChromium(kiosk);
    return new ChromiumPrelaunch(
      pageUrl
        ? launching.then(async (l) => {
            const url = await pageUrl.catch(() => undefined);
            return url ? openEarly(l, kiosk, url) : l;
          })
        : launching,
    );
  }

  static none(): ChromiumPrelaunch {
    return new ChromiumPrelaunch(undefined);
  }

  /** The early launch, once; undefined afterwards or if there was none. */
  take(): Promise<LaunchedChromium> | undefined {
    const launched = this.launched;
    this.launched = undefined;
    return launched;
  }

  /** The daemon did not start after all: close the early Chromium and its profile. */
  async discard(): Promise<void> {
    const launched = await this.take()?.catch(() => undefined);
    if (!launched) return;
    await launched.browser.close().catch(() => launched.browser.process()?.kill('SIGKILL'));
    await rm(launched.profileDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Opens the page on an early Chromium; a failure leaves it to the adapter's own navigation. */
async function openEarly(
  launched: LaunchedChromium,
  kiosk: DeviceConfig['kiosk'],
  url: string,
): Promise<LaunchedChromium> {
  try {
    const page = await preparePage(launched.browser, url, kiosk.fullscreen);
    const loaded = page.goto(url, { waitUntil: 'domcontentloaded', timeout: kiosk.heartbeatTimeoutMs }).then(
      () => true,
      () => false,
    );
    return { ...launched, early: { page, loaded } };
  } catch {
    return launched;
  }
}

/**
 * Chromium through puppeteer-core, over a pipe (no remote-debugging port). On a box it is a
 * full-screen kiosk window; in tests and CI it runs headless with Chromium's fake camera and microphone.
 */
@Injectable()
export class PuppeteerKiosk extends KioskBrowserPort {
  private readonly log = createLogger(PuppeteerKiosk.name);
  private browser: Browser | undefined;
  private page: Page | undefined;
  private profileDir: string | undefined;
  private starting: Promise<void> | undefined;
  /** Counts stops: a start that a stop overtook (shutdown during launch) closes what it launched. */
  private stops = 0;

  constructor(
    private readonly config: ConfigService,
    private readonly prelaunch: ChromiumPrelaunch,
  ) {
    super();
  }

  isRunning(): boolean {
    return this.browser?.connected === true;
  }

  pid(): number | undefined {
    return this.browser?.process()?.pid;
  }

  async ensureStarted(url: string): Promise<void> {
    if (this.isRunning()) return;
    this.starting ??= this.start(url).finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async start(url: string): Promise<void> {
    const { kiosk } = this.config.current;
    const stops = this.stops;
    const early = this.prelaunch.take();
    let launched = early && (await early.catch(() => undefined));
    // An early Chromium that died meanwhile is no use: launch afresh.
    if (launched && !launched.browser.connected) {
      await rm(launched.profileDir, { recursive: true, force: true }).catch(() => undefined);
      launched = undefined;
    }
    if (early && launched)
      this.log.info(
        `Took over the kiosk browser launched early pid=${launched.browser.process()?.pid} ` +
          `pageOpened=${launched.early !== undefined}`,
      );
    const { browser, profileDir, early: opened } = launched ?? (await launchChromium(kiosk));
    if (this.stops !== stops) {
      await browser.close().catch(() => browser.process()?.kill('SIGKILL'));
      await rm(profileDir, { recursive: true, force: true }).catch(() => undefined);
      throw new Error('the kiosk browser was stopped while it started');
    }
    this.profileDir = profileDir;
    this.browser = browser;
    try {
      await this.open(browser, url, opened);
    } catch (error) {
      // Half started is not started: close it, so the next start launches afresh.
      await this.stopNow();
      throw error;
    }
    this.log.info(`Started kiosk browser pid=${this.pid()} headless=${kiosk.headless}`);
  }

  /** The page on a browser just launched: permissions, crash and exit watching, navigation. */
  private async open(browser: Browser, url: string, opened?: LaunchedChromium['early']): Promise<void> {
    browser.on('disconnected', () => {
      if (this.browser !== browser) return;
      this.browser = undefined;
      this.page = undefined;
      void this.cleanProfile();
      this.exited.emit({ reason: 'Chromium exited or disconnected' });
    });
    const page = opened?.page ?? (await preparePage(browser, url, this.config.current.kiosk.fullscreen));
    this.page = page;
    page.on('console', (message) =>
      this.log.debug(`Page said level=${message.type()} text=${message.text()}`),
    );
    page.on('pageerror', (error) => this.log.warn(`Can't run page script: ${reason(error)}`));
    page.on('error', (error) => {
      // The renderer crashed: the page is gone even though the browser lives; start over.
      this.log.error(`Lost kiosk page renderer: ${reason(error)}`);
      void this.ensureStopped();
    });
    // The page has as long to load as it may stay silent before it counts as hung (not puppeteer's
    // fixed 30 s): a slow board, or the VM test's emulated CPU, loads it in more than that. A page the
    // early launch already loaded from this URL is not loaded again.
    if (opened && (await opened.loaded) && page.url() === url) return;
    await gotoOnceListening(page, url, this.config.current.kiosk.heartbeatTimeoutMs);
  }

  async ensureStopped(): Promise<void> {
    this.stops++;
    await this.prelaunch.discard();
    // A start under way sees the stop and closes what it launched; wait for it to have done so.
    await this.starting?.catch(() => undefined);
    await this.stopNow();
  }

  private async stopNow(): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    this.page = undefined;
    if (browser) {
      const proc = browser.process();
      await Promise.race([browser.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    await this.cleanProfile();
  }

  private async cleanProfile(): Promise<void> {
    const dir = this.profileDir;
    this.profileDir = undefined;
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }

  async screenshot(format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
    if (!this.page) throw new Error('the kiosk browser is not running');
    return Buffer.from(
      await this.page.screenshot(format === 'jpeg' ? { type: 'jpeg', quality: 70 } : { type: 'png' }),
    );
  }

  async evaluate<T>(expression: string): Promise<T> {
    if (!this.page) throw new Error('the kiosk browser is not running');
    return (await this.page.evaluate(expression)) as T;
  }
}
