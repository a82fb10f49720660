import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceTreeBoard } from '../../../device/adapters/board.device-tree.js';
import { SimKeyInput } from '../../../device/adapters/key-input.sim.js';
import { parseDeviceConfig } from '../../../device/config/device-config.loader.js';
import { startDaemon, type RunningDaemon } from '../../../device/daemon.js';
import { KeyInputPort } from '../../../device/ports/key-input.port.js';
import { BoardPort } from '../../../device/ports/board.port.js';
import type { DeviceStatus } from '../../../device/services/status.service.js';
import { waitFor } from '../../helpers/browser.js';
import { freePort } from '../../helpers/ports.js';

describe('DeviceTreeBoard', () => {
  it('reads the firmware model without its NUL, and nothing on a PC', async () => {
    const proc = mkdtempSync(join(tmpdir(), 'classbox-proc-'));
    try {
      expect(await new DeviceTreeBoard(proc).model()).toBeUndefined();
      mkdirSync(join(proc, 'device-tree'));
      writeFileSync(join(proc, 'device-tree/model'), 'Raspberry Pi 4 Model B Rev 1.5\0');
      expect(await new DeviceTreeBoard(proc).model()).toBe('Raspberry Pi 4 Model B Rev 1.5');
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });
});

describe('a sim box with a USB class button on a Raspberry Pi 5', () => {
  let daemon: RunningDaemon;
  let proc: string;
  const status = async (): Promise<DeviceStatus> =>
    (await (await fetch(`${daemon.url}/api/status`)).json()) as DeviceStatus;

  beforeAll(async () => {
    proc = mkdtempSync(join(tmpdir(), 'classbox-proc-'));
    mkdirSync(join(proc, 'device-tree'));
    writeFileSync(join(proc, 'device-tree/model'), 'Raspberry Pi 5 Model B Rev 1.0\0');
    const config = parseDeviceConfig(
      {
        device: { id: 'test-box', displayName: '瑞金教学点' },
        janus: { url: `ws://127.0.0.1:${await freePort()}`, room: 2222, connectTimeoutMs: 1000 },
        hardware: {
          mode: 'sim',
          buttons: { class: { source: 'usb', device: 'Foot Switch', key: 'KEY_F13' } },
        },
        kiosk: { browser: 'none' },
        control: { port: await freePort() },
        log: { level: 'warn' },
      },
      'test',
    );
    daemon = await startDaemon(config, [{ provide: BoardPort, useValue: new DeviceTreeBoard(proc) }]);
  });

  afterAll(async () => {
    await daemon?.stop();
    rmSync(proc, { recursive: true, force: true });
  });

  it('reports the board in /api/status', async () => {
    expect((await status()).board).toBe('Raspberry Pi 5 Model B Rev 1.0');
  });

  it('presses the USB button through the control API like a wired one, and says when it is unplugged', async () => {
    const res = await fetch(`${daemon.url}/api/buttons/class/press`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as DeviceStatus).state).not.toBe('idle');

    const keys = daemon.app.get(KeyInputPort) as SimKeyInput;
    keys.simulateDevice('class button', false);
    const unplugged = await waitFor(
      async () => {
        const s = await status();
        return s.health.buttons?.code === 'E-BUTTON-USB-MISSING' ? s : undefined;
      },
      5000,
      'the unplugged button',
    );
    expect(unplugged.health.buttons?.status).toBe('missing');
    keys.simulateDevice('class button', true);
    await waitFor(
      async () => ((await status()).health.buttons?.status === 'ok' ? true : undefined),
      5000,
      'the button back',
    );
  });
});
