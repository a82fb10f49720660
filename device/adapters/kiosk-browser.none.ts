import { Injectable } from '@nestjs/common';
import { KioskBrowserPort } from '../ports/kiosk-browser.port.js';

/** `kiosk.browser: "none"`: the page is served, and any browser may open it; nothing is launched. */
@Injectable()
export class NoKioskBrowser extends KioskBrowserPort {
  async ensureStarted(): Promise<void> {}
  async ensureStopped(): Promise<void> {}
  isRunning(): boolean {
    return false;
  }
  pid(): number | undefined {
    return undefined;
  }
  async screenshot(): Promise<Buffer> {
    throw new Error('no kiosk browser runs (kiosk.browser is "none")');
  }
  async evaluate<T>(): Promise<T> {
    throw new Error('no kiosk browser runs (kiosk.browser is "none")');
  }
}
