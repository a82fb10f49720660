import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Provider } from '@nestjs/common';
import { deviceConfigSchema, type DeviceConfigInput } from '../../../device/config/device-config.schema.js';
import { startDaemon, type RunningDaemon } from '../../../device/daemon.js';
import type { DeviceStatus } from '../../../device/services/status.service.js';
import { freePort } from '../../helpers/ports.js';

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
