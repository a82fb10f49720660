import { layerConfig, UNENROLLED_IDENTITY } from '../../device/config/config-layers.js';
import { parseDeviceConfig } from '../../device/config/device-config.loader.js';
import type { DeviceConfig, DeviceConfigInput } from '../../device/config/device-config.schema.js';
import { startDaemon, type RunningDaemon } from '../../device/daemon.js';
import type { DeviceStatus } from '../../device/services/status.service.js';
import { freePort } from './ports.js';
import { waitFor } from './browser.js';

export interface TestBox {
  daemon: RunningDaemon;
  config: DeviceConfig;
  url: string;
  status(): Promise<DeviceStatus>;
  press(button: 'class' | 'mute', holdMs?: number): Promise<DeviceStatus>;
  waitForState(state: DeviceStatus['state'], timeoutMs?: number): Promise<DeviceStatus>;
  stop(): Promise<void>;
}

type Overrides = { [K in keyof DeviceConfigInput]?: Partial<DeviceConfigInput[K]> };

/** A simulated box: the real daemon in sim mode, its kiosk in headless Chromium with fake media. */
export async function startBox(overrides: Overrides = {}): Promise<TestBox> {
  const port = await freePort();
  const raw = {
    ...overrides,
    // A fleet box learns who it is at enrolment: no device section unless the test gives one.
    ...(overrides.fleet && !overrides.device
      ? {}
      : {
          device: {
            id: 'test-box',
            displayName: '瑞金教学点',
            centreName: '江西开放大学',
            ...overrides.device,
          },
        }),
    hardware: { mode: 'sim', ...overrides.hardware },
    kiosk: {
      browser: 'chromium',
      headless: true,
      fakeMedia: true,
      width: 1280,
      height: 720,
      ...overrides.kiosk,
    },
    control: { port, ...overrides.control },
    log: { level: (process.env.CLASSBOX_TEST_LOG as 'info' | undefined) ?? 'warn', ...overrides.log },
    janus: { ...overrides.janus },
  };
  // A fleet box with no device section runs under the placeholder identity until it enrols, as from a file.
  const config = parseDeviceConfig(
    overrides.fleet && !overrides.device ? layerConfig(raw, UNENROLLED_IDENTITY) : raw,
    'test',
  );
  const daemon = await startDaemon(config);
  const url = daemon.url;
  const status = async (): Promise<DeviceStatus> =>
    (await (await fetch(`${url}/api/status`)).json()) as DeviceStatus;
  return {
    daemon,
    config,
    url,
    status,
    press: async (button, holdMs = 120) => {
      const res = await fetch(`${url}/api/buttons/${button}/press`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ holdMs }),
      });
      if (!res.ok) throw new Error(`press ${button} failed: ${res.status} ${await res.text()}`);
      return (await res.json()) as DeviceStatus;
    },
    waitForState: (state, timeoutMs = 15_000) =>
      waitFor(
        async () => {
          const s = await status();
          return s.state === state ? s : undefined;
        },
        timeoutMs,
        `state ${state}`,
      ),
    stop: () => daemon.stop(),
  };
}
