import { WebSocket } from 'ws';
import { describeIssues } from '../../common/zod-issues.js';
import { daemonMessageSchema, type ScreenState } from '../../device/protocol/kiosk-messages.js';

/** A JPEG's first and last bytes: enough for the fleet to store and serve as image/jpeg. */
export const FAKE_JPEG = Buffer.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0xff, 0xd9,
]);

type Message = { type: string; [key: string]: unknown };

/**
 * Plays the kiosk page over the real loopback WebSocket: answers the daemon's requests, reports
 * media with a microphone level, and keeps every message it got. `holdTone` keeps the speaker tone
 * request unanswered until `releaseTone()`, so a test can look at the box mid-self-test.
 */
export class FakeKioskPage {
  readonly received: Message[] = [];
  readonly tones: { hz: number; ms: number }[] = [];
  holdTone = false;
  microphoneLevel = 0.3;
  private socket: WebSocket | undefined;
  private mediaTimer: NodeJS.Timeout | undefined;
  private pendingTone: (() => void) | undefined;
  private readonly waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  private readonly jpeg: string;

  constructor(jpeg: Buffer = FAKE_JPEG) {
    this.jpeg = `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  }

  async connect(url: string): Promise<void> {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    this.socket = socket;
    socket.on('message', (data) => this.receive(JSON.parse(String(data)) as Message));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    this.send({ type: 'hello', page: 'fake-page' });
    // The real page reports media a few times a second while it shows the camera.
    this.mediaTimer = setInterval(
      () => this.send({ type: 'media', camera: 'ok', microphone: 'ok', level: this.microphoneLevel }),
      100,
    );
  }

  close(): void {
    clearInterval(this.mediaTimer);
    this.socket?.terminate();
  }

  /** The last `screen` the daemon sent, as the page would draw it. */
  lastScreen(): ScreenState | undefined {
    const last = this.received.findLast((m) => m.type === 'screen');
    return last?.screen as ScreenState | undefined;
  }

  /** Resolves with the first message (already received or coming) that matches. */
  next(match: (m: Message) => boolean): Promise<Message> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Resolves with the first message from now on that matches. */
  upcoming(match: (m: Message) => boolean): Promise<Message> {
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  releaseTone(): void {
    this.pendingTone?.();
    this.pendingTone = undefined;
  }

  /** Send text as it is, e.g. a malformed message the daemon must drop. */
  sendRaw(text: string): void {
    this.socket?.send(text);
  }

  private send(message: object): void {
    this.socket?.send(JSON.stringify(message));
  }

  private receive(message: Message): void {
    // What the daemon sends must match the protocol the real page is built against.
    const checked = daemonMessageSchema.safeParse(message);
    if (!checked.success)
      throw new Error(
        `the daemon sent a ${message.type} message outside the protocol: ${describeIssues(checked.error).join('; ')}`,
      );
    this.received.push(message);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(message)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
    if (message.type !== 'request') return;
    const id = message.id as number;
    switch (message.action) {
      case 'camera.snapshot':
        return this.send({ type: 'reply', id, ok: true, image: this.jpeg });
      case 'speaker.tone': {
        this.tones.push({ hz: message.hz as number, ms: message.ms as number });
        const reply = (): void => this.send({ type: 'reply', id, ok: true });
        if (this.holdTone) this.pendingTone = reply;
        else reply();
        return;
      }
      case 'publisher.offer':
        return this.send({ type: 'reply', id, ok: true, jsep: { type: 'offer', sdp: 'v=0\r\n' } });
      case 'subscriber.answer':
        return this.send({ type: 'reply', id, ok: true, jsep: { type: 'answer', sdp: 'v=0\r\n' } });
    }
  }
}

/** A fake kiosk page connected to the daemon at `daemonUrl`. */
export async function connectFakePage(daemonUrl: string, jpeg: Buffer = FAKE_JPEG): Promise<FakeKioskPage> {
  const page = new FakeKioskPage(jpeg);
  await page.connect(daemonUrl);
  return page;
}
