import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Provider } from '@nestjs/common';
import { WebSocket } from 'ws';
import { deviceConfigSchema, type DeviceConfigInput } from '../../../device/config/device-config.schema.js';
import { startDaemon, type RunningDaemon } from '../../../device/daemon.js';
import {
  JanusPort,
  type IceCandidate,
  type Jsep,
  type PublishRequest,
  type PublishResult,
  type RemotePublisher,
  type SubscriberOffer,
} from '../../../device/ports/janus.port.js';
import type { DeviceStatus } from '../../../device/services/status.service.js';

/** A port nobody listens on yet. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP listener standing in for the Janus host, so the network check has something on this machine to reach. */
export async function tcpListener(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((socket) => socket.on('error', () => undefined));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.unref();
      }),
  };
}

/** Janus as far as the box's hardware tests need it: always reachable, answers every publish. */
export class FakeJanus extends JanusPort {
  connected = false;
  readonly published: PublishRequest[] = [];
  async ensureConnected(): Promise<void> {
    this.connected = true;
  }
  isConnected(): boolean {
    return this.connected;
  }
  async publish(request: PublishRequest): Promise<PublishResult> {
    this.published.push(request);
    return { feed: '4242', answer: { type: 'answer', sdp: 'v=0\r\n' }, publishers: [] };
  }
  async trickle(_target: 'publisher' | 'subscriber', _candidate: IceCandidate | null): Promise<void> {}
  async subscribe(_room: number, _feeds: readonly RemotePublisher[]): Promise<SubscriberOffer | undefined> {
    return undefined;
  }
  async startSubscriber(_answer: Jsep): Promise<void> {}
  async leave(): Promise<void> {}
  async ensureClosed(): Promise<void> {
    this.connected = false;
  }
}

type Message = { type: string; [key: string]: unknown };

/**
 * Plays the kiosk page over the real loopback WebSocket: answers the daemon's requests, reports
 * media with a microphone level, and keeps every message it got. `holdTone` keeps the speaker tone
 * request unanswered until `releaseTone()`, so a test can look at the box mid-self-test.
 */
export class FakePage {
  readonly received: Message[] = [];
  readonly tones: { hz: number; ms: number }[] = [];
  holdTone = false;
  microphoneLevel = 0.3;
  private socket: WebSocket | undefined;
  private mediaTimer: NodeJS.Timeout | undefined;
  private pendingTone: (() => void) | undefined;
  private readonly waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  private readonly jpeg: string;

  constructor(jpeg: Buffer) {
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

  private send(message: object): void {
    this.socket?.send(JSON.stringify(message));
  }

  private receive(message: Message): void {
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

export interface Box {
  readonly daemon: RunningDaemon;
  readonly url: string;
  status(): Promise<DeviceStatus>;
  post(path: string, body?: unknown): Promise<{ code: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

export async function startBox(
  overrides: Partial<DeviceConfigInput> & { janusPort: number },
  providers: Provider[] = [],
): Promise<Box> {
  const stateDir = await mkdtemp(join(tmpdir(), 'classbox-hw-'));
  const { janusPort, ...rest } = overrides;
  const config = deviceConfigSchema.parse({
    device: { id: 'jx-test-01', displayName: '测试教学点' },
    janus: { url: `ws://127.0.0.1:${janusPort}`, room: 1234, connectTimeoutMs: 1000 },
    hardware: { mode: 'sim' },
    session: { selfTestHoldMs: 3000, endHoldMs: 1000 },
    kiosk: { browser: 'none' },
    control: { port: await freePort() },
    log: { level: 'error' },
    stateDir,
    ...rest,
  });
  const daemon = await startDaemon(config, providers);
  const post = async (path: string, body?: unknown) => {
    const response = await fetch(`${daemon.url}${path}`, {
      method: 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { code: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return {
    daemon,
    url: daemon.url,
    status: async () => (await (await fetch(`${daemon.url}/api/status`)).json()) as DeviceStatus,
    post,
    stop: async () => {
      await daemon.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
