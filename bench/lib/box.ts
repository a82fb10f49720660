import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MediaStatus } from '../../common/media-report.js';
import { freePort } from '../../test/helpers/ports.js';
import { bindNotifySocket, CLI, spawnNode, until, type NotifySocket, type Spawned } from './processes.js';
import { daemonNodeFlags } from './unit.js';

export const BOX_NAME = '瑞金教学点';

export interface BoxStatus {
  state: 'idle' | 'joining' | 'live' | 'leaving' | 'reconnecting' | 'error';
  feed?: string | number | null;
  health: Record<string, { status: string } | undefined>;
  media?: MediaStatus;
}

/**
 * The real daemon (`classbox device --config F`) in a child process, under a notify socket and with the
 * unit's Node.js flags, as systemd runs it.
 */
export interface BoxProcess {
  readonly proc: Spawned;
  readonly notify: NotifySocket;
  readonly url: string;
  readonly pid: number;
  /** performance.now() when READY=1 arrived. */
  readonly readyAt: number;
  status(): Promise<BoxStatus>;
  /** Presses the class button through the control API; resolves with performance.now() just before the request. */
  pressClass(): Promise<number>;
  waitForState(state: BoxStatus['state'], timeoutMs: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startBoxProcess(
  janus: { url: string; room: number } | undefined,
  options: {
    logLevel?: 'info' | 'warn';
    mediaProfile?: 'pi4' | 'pi5' | 'pc';
    /** Simulcast layers sent (media.layers), else the profile's. */
    layers?: 1 | 2 | 3;
    fakeVideoFile?: string;
  } = {},
): Promise<BoxProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'classbox-bench-box-'));
  const notify = bindNotifySocket(dir);
  const port = await freePort();
  const file = join(dir, 'device.json');
  await writeFile(
    file,
    JSON.stringify({
      device: { id: 'bench-box', displayName: BOX_NAME, centreName: '江西开放大学' },
      ...(janus ? { janus } : {}),
      hardware: { mode: 'sim' },
      kiosk: {
        browser: 'chromium',
        headless: true,
        fakeMedia: true,
        width: 1280,
        height: 720,
        ...(options.fakeVideoFile ? { fakeVideoFile: options.fakeVideoFile } : {}),
      },
      control: { port },
      log: { level: options.logLevel ?? 'warn' },
      ...(options.mediaProfile || options.layers
        ? {
            media: {
              ...(options.mediaProfile ? { profile: options.mediaProfile } : {}),
              ...(options.layers ? { layers: options.layers } : {}),
            },
          }
        : {}),
    }),
  );
  const proc = spawnNode([...daemonNodeFlags(), CLI, 'device', '--config', file], {
    NOTIFY_SOCKET: notify.path,
  });
  const cleanup = async (): Promise<void> => {
    await proc.stop();
    notify.close();
    await rm(dir, { recursive: true, force: true });
  };
  let readyAt: number;
  try {
    readyAt = await Promise.race([
      notify.waitFor('READY', '1', 60_000),
      proc.exited.then(() => {
        throw new Error(`the daemon exited before READY=1: ${proc.output()}`);
      }),
    ]);
  } catch (error) {
    await cleanup();
    throw error;
  }
  const url = `http://127.0.0.1:${port}`;
  const status = async (): Promise<BoxStatus> =>
    (await (await fetch(`${url}/api/status`)).json()) as BoxStatus;
  return {
    proc,
    notify,
    url,
    pid: proc.child.pid!,
    readyAt,
    status,
    pressClass: async () => {
      const at = performance.now();
      const res = await fetch(`${url}/api/buttons/class/press`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ holdMs: 120 }),
      });
      if (!res.ok) throw new Error(`press failed: ${res.status} ${await res.text()}`);
      return at;
    },
    waitForState: (state, timeoutMs) =>
      until(
        async () => ((await status()).state === state ? performance.now() : undefined),
        timeoutMs,
        `state ${state}`,
      ),
    stop: cleanup,
  };
}
