import { Signal } from '../../common/signal.js';
import type { DaemonMessage, PageMessage } from '../protocol/kiosk-messages.js';
import type { Jsep } from './janus.port.js';
import { ClassboxError } from '../../common/errors.js';

export type PageMessageOf<T extends PageMessage['type']> = Extract<PageMessage, { type: T }>;

/** The page is not there, did not answer in time, or could not do what was asked. */
export class KioskPageError extends ClassboxError<'E-KIOSK-DOWN'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E-KIOSK-DOWN', message, options);
  }
}

/**
 * The box's own page in the kiosk browser, as the services see it: messages to draw and play, requests
 * it answers (SDP, a camera still, a test tone), and what it reports. The adapter is the loopback
 * WebSocket (`KioskPageGateway`); what arrives is validated there (`pageMessageSchema`) before any signal.
 */
export abstract class KioskPagePort {
  readonly connected = new Signal<void>('page.connected');
  readonly disconnected = new Signal<void>('page.disconnected');
  readonly candidate = new Signal<PageMessageOf<'candidate'>>('page.candidate');
  readonly media = new Signal<PageMessageOf<'media'>>('page.media');
  readonly connection = new Signal<PageMessageOf<'connection'>>('page.connection');
  readonly stats = new Signal<PageMessageOf<'stats'>>('page.stats');
  readonly mediaStats = new Signal<PageMessageOf<'media.stats'>>('page.mediaStats');
  /** A catch-up replay's part ended or failed on the page (issue 21). */
  readonly replay = new Signal<PageMessageOf<'replay'>>('page.replay');

  abstract isConnected(): boolean;
  /** When the page last said it was alive (ms, from the clock), if ever. */
  abstract heartbeatAt(): number | undefined;
  /** False when no page is connected (nothing sent). */
  abstract send(message: DaemonMessage): boolean;
  abstract requestPublisherOffer(
    media: { audio: boolean; video: boolean; fresh?: boolean },
    timeoutMs?: number,
  ): Promise<Jsep>;
  abstract requestSubscriberAnswer(offer: Jsep, timeoutMs?: number): Promise<Jsep>;
  /** A JPEG of the camera from the page's live stream, as bytes. */
  abstract requestSnapshot(timeoutMs?: number): Promise<Buffer>;
  /** Play a test tone on the speaker through the page. */
  abstract requestTone(hz: number, ms: number): Promise<void>;
}
