import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { loadDeviceConfig } from '../../device/config/device-config.loader.js';
import { startDaemon, type RunningDaemon } from '../../device/daemon.js';
import {
  JanusPort,
  type IceCandidate,
  type Jsep,
  type PublishRequest,
  type PublishResult,
  type RemotePublisher,
  type SubscriberOffer,
} from '../../device/ports/janus.port.js';
import type { ScreenState } from '../../device/protocol/kiosk-messages.js';
import { FleetClientService } from '../../device/services/fleet-client.service.js';
import { freePort } from './ports.js';

/** A stand-in for the central Janus: records what the box publishes, to which room. */
export class RecordingJanus extends JanusPort {
  readonly publishes: PublishRequest[] = [];
  private connected = false;

  async ensureConnected(): Promise<void> {
    this.connected = true;
  }
  isConnected(): boolean {
    return this.connected;
  }
  async publish(request: PublishRequest): Promise<PublishResult> {
    this.publishes.push(request);
    return { feed: '101', answer: { type: 'answer', sdp: 'v=0\r\n' }, publishers: [] };
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

/** A JPEG's first and last bytes: enough for the fleet to store and serve as image/jpeg. */
export const FAKE_JPEG = Buffer.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0xff, 0xd9,
]);

/**
 * The kiosk page's side of the loopback WebSocket, speaking the protocol without a browser:
 * it offers SDP for the publisher and answers snapshot requests.
 */
export interface FakePage {
  /** The last `screen` the daemon sent, as the page would draw it. */
  lastScreen(): ScreenState | undefined;
  close(): void;
}

export async function connectFakePage(daemonUrl: string): Promise<FakePage> {
  const ws = new WebSocket(`${daemonUrl.replace('http', 'ws')}/ws`);
  let screen: ScreenState | undefined;
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as {
      type: string;
      id?: number;
      action?: string;
      screen?: ScreenState;
    };
    if (message.type === 'screen') screen = message.screen;
    if (message.type !== 'request') return;
    const reply = (extra: object) =>
      ws.send(JSON.stringify({ type: 'reply', id: message.id, ok: true, ...extra }));
    if (message.action === 'publisher.offer') reply({ jsep: { type: 'offer', sdp: 'v=0\r\n' } });
    else if (message.action === 'subscriber.answer') reply({ jsep: { type: 'answer', sdp: 'v=0\r\n' } });
    else if (message.action === 'camera.snapshot')
      reply({ image: `data:image/jpeg;base64,${FAKE_JPEG.toString('base64')}` });
    else reply({});
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'hello', page: 'fake' }));
  ws.send(JSON.stringify({ type: 'media', camera: 'ok', microphone: 'ok' }));
  return { lastScreen: () => screen, close: () => ws.close() };
}

export interface SimBox {
  readonly daemon: RunningDaemon;
  readonly janus: RecordingJanus;
  readonly fleet: FleetClientService;
  readonly configFile: string;
  stop(): Promise<void>;
}

/** Write a fleet box's config file (no device section: the box learns who it is at enrolment). */
export async function writeFleetBoxConfig(dir: string, fleetUrl: string, seedFile: string): Promise<string> {
  const file = join(dir, 'device.json');
  const config = {
    fleet: { url: fleetUrl, enrolmentFile: seedFile, heartbeatSeconds: 3600 },
    stateDir: join(dir, 'state'),
    hardware: { mode: 'sim' },
    kiosk: { browser: 'none' },
    session: { endHoldMs: 500 },
    control: { port: await freePort() },
    log: { level: 'warn' },
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/**
 * A box in `sim` mode booted from its config file through the real loader and daemon, with a
 * recording Janus. Its heartbeat timer runs hourly; tests drive rounds with `fleet.tick()`.
 */
export async function startSimBox(configFile: string): Promise<SimBox> {
  const config = await loadDeviceConfig(configFile);
  const janus = new RecordingJanus();
  const daemon = await startDaemon(config, [{ provide: JanusPort, useValue: janus }]);
  const fleet = daemon.app.get(FleetClientService);
  return { daemon, janus, fleet, configFile, stop: () => daemon.stop() };
}

/** Wait until `check` holds; fails with `what` if it never does. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  tries = 200,
): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}
