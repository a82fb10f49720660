import { Signal } from '../../common/signal.js';

export interface KioskExit {
  readonly reason: string;
}

/** The browser that shows the box's page full screen. */
export abstract class KioskBrowserPort {
  /** The browser went away (crash, kill, disconnect). */
  readonly exited = new Signal<KioskExit>('kiosk.exited');

  abstract ensureStarted(url: string): Promise<void>;
  abstract ensureStopped(): Promise<void>;
  abstract isRunning(): boolean;
  abstract pid(): number | undefined;
  /** What the screen shows, for IT (JPEG: small enough to send to the fleet) and for tests (PNG). */
  abstract screenshot(format?: 'png' | 'jpeg'): Promise<Buffer>;
  /** Run an expression in the page (tests, diagnostics, and whether a silent page still runs). */
  abstract evaluate<T>(expression: string): Promise<T>;
}
