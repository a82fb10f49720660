import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { describeIssues } from '../../common/zod-issues.js';
import type { Jsep } from '../ports/janus.port.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import { KioskPageError, KioskPagePort, type PageMessageOf } from '../ports/kiosk-page.port.js';
import { pageMessageSchema, type DaemonMessage, type PageMessage } from '../protocol/kiosk-messages.js';

type MessageOf<T extends PageMessage['type']> = PageMessageOf<T>;

const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

type RequestBody =
  | { action: 'publisher.offer'; audio: boolean; video: boolean }
  | { action: 'subscriber.answer'; offer: { type: 'offer'; sdp: string } }
  | { action: 'camera.snapshot' }
  | { action: 'speaker.tone'; hz: number; ms: number };

/**
 * The kiosk page port's adapter: the loopback WebSocket to the page (`/ws`). One page at a time: a newer
 * connection replaces the older one (a relaunched Chromium reconnects before the old socket times out).
 */
@Injectable()
export class KioskPageGateway
  extends KioskPagePort
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly log = createLogger(KioskPageGateway.name);
  private wss: WebSocketServer | undefined;
  private socket: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (m: MessageOf<'reply'>) => void; reject: (e: Error) => void; timer: TimerHandle }
  >();
  private lastHeartbeat: number | undefined;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void =>
    this.handleUpgrade(req, socket, head);
  private server: Server | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly clock: ClockPort,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
    this.server.on('upgrade', this.onUpgrade);
  }

  /** Before the HTTP server closes: it waits for every open connection, this socket included. */
  async beforeApplicationShutdown(): Promise<void> {
    this.server?.off('upgrade', this.onUpgrade);
    this.rejectAll(new KioskPageError('the daemon is stopping'));
    for (const client of this.wss?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
  }

  isConnected(): boolean {
    return this.socket !== undefined;
  }

  /** When the page last said it was alive (ms, from the clock), if ever. */
  heartbeatAt(): number | undefined {
    return this.lastHeartbeat;
  }

  send(message: DaemonMessage): boolean {
    if (!this.socket) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  async requestPublisherOffer(
    media: { audio: boolean; video: boolean; fresh?: boolean },
    timeoutMs = 10_000,
  ): Promise<Jsep> {
    const reply = await this.request({ action: 'publisher.offer', ...media }, timeoutMs);
    if (reply.jsep?.type !== 'offer') throw new KioskPageError('the page answered without an SDP offer');
    return reply.jsep;
  }

  async requestSubscriberAnswer(offer: Jsep, timeoutMs = 10_000): Promise<Jsep> {
    const reply = await this.request(
      { action: 'subscriber.answer', offer: { type: 'offer', sdp: offer.sdp } },
      timeoutMs,
    );
    if (reply.jsep?.type !== 'answer') throw new KioskPageError('the page answered without an SDP answer');
    return reply.jsep;
  }

  /** A JPEG of the camera from the page's live stream, as bytes. */
  async requestSnapshot(timeoutMs = 5000): Promise<Buffer> {
    const reply = await this.request({ action: 'camera.snapshot' }, timeoutMs);
    if (!reply.image) throw new KioskPageError('the page answered without an image');
    return Buffer.from(reply.image.slice('data:image/jpeg;base64,'.length), 'base64');
  }

  /** Play a test tone on the speaker through the page. */
  async requestTone(hz: number, ms: number): Promise<void> {
    await this.request({ action: 'speaker.tone', hz, ms }, ms + 5000);
  }

  private request(body: RequestBody, timeoutMs: number): Promise<MessageOf<'reply'>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.socket) {
        reject(new KioskPageError('the kiosk page is not connected'));
        return;
      }
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(id);
        reject(new KioskPageError(`the kiosk page did not answer ${body.action} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (reply) => {
          if (reply.ok) resolve(reply);
          else
            reject(
              new KioskPageError(
                `the kiosk page could not do ${body.action}: ${reply.error ?? 'no reason given'}`,
              ),
            );
        },
        reject,
        timer,
      });
      this.send({ type: 'request', id, ...body } as DaemonMessage);
    });
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // The page is ours and on loopback; refuse other paths and foreign origins (a page on the
    // box's browser from elsewhere must not drive the class).
    const origin = req.headers.origin;
    const host = req.headers.host ?? '';
    if (url.pathname !== '/ws' || (origin !== undefined && origin !== `http://${host}`)) {
      socket.destroy();
      return;
    }
    this.wss?.handleUpgrade(req, socket, head, (ws) => this.adopt(ws));
  }

  private adopt(ws: WebSocket): void {
    const previous = this.socket;
    this.socket = ws;
    if (previous) {
      this.rejectAll(new KioskPageError('the kiosk page reconnected'));
      previous.terminate();
    }
    this.lastHeartbeat = this.clock.now();
    this.log.info('Connected kiosk page');
    ws.on('message', (data, isBinary) => {
      if (isBinary)
        return this.log.warn("Can't use kiosk message: binary frames are not part of the protocol");
      this.receive(String(data));
    });
    ws.on('close', () => {
      if (this.socket !== ws) return;
      this.socket = undefined;
      this.rejectAll(new KioskPageError('the kiosk page disconnected'));
      this.log.warn('Lost kiosk page');
      this.disconnected.emit();
    });
    ws.on('error', (error) => this.log.warn(`Can't talk to kiosk page: ${reason(error)}`));
    this.connected.emit();
  }

  private receive(text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.log.warn("Can't use kiosk message: not JSON");
      return;
    }
    const parsed = pageMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.log.warn(`Can't use kiosk message: ${describeIssues(parsed.error).join('; ')}`);
      return;
    }
    const message = parsed.data;
    this.lastHeartbeat = this.clock.now();
    switch (message.type) {
      case 'reply': {
        const waiter = this.pending.get(message.id);
        if (!waiter) return;
        this.pending.delete(message.id);
        this.clock.clearTimeout(waiter.timer);
        waiter.resolve(message);
        return;
      }
      case 'candidate':
        return this.candidate.emit(message);
      case 'media':
        return this.media.emit(message);
      case 'connection':
        return this.connection.emit(message);
      case 'stats':
        return this.stats.emit(message);
      case 'media.stats':
        return this.mediaStats.emit(message);
      case 'replay':
        return this.replay.emit(message);
      case 'hello':
      case 'heartbeat':
        return;
    }
  }

  private rejectAll(error: Error): void {
    for (const [id, waiter] of this.pending) {
      this.clock.clearTimeout(waiter.timer);
      waiter.reject(error);
      this.pending.delete(id);
    }
  }
}
