import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../device/adapters/clock.system.js';
import { files } from '../../../device/adapters/files.fs.js';
import { EvdevKeyInput } from '../../../device/adapters/key-input.evdev.js';
import { NodeProcesses } from '../../../device/adapters/process.node.js';
import { hardwareConfigSchema } from '../../../device/config/device-config.schema.js';
import { formatDoctor, runDoctor, type DoctorEnv } from '../../../device/doctor/doctor.js';

const REPO = join(import.meta.dirname, '../../..');
const FIXTURES = join(REPO, 'test/fixtures/hardware');

/** pinctrl's `get` line for each pin, from files next to the script (raspberrypi/utils pinctrl.c format). */
const FAKE_PINCTRL = `#!/bin/bash
set -euo pipefail
dir="$(dirname "$0")"
[[ "$1" == get ]] || exit 1
pull="$(cat "$dir/pull.$2" 2>/dev/null || echo pd)"
level="$(cat "$dir/level.$2" 2>/dev/null || echo lo)"
printf '%2d: ip    %s | %s // GPIO%d = input\\n' "$2" "$pull" "$level" "$2"
`;

/** A Pi 5 as the doctor sees it: sysfs GPIO, the device-tree model, ALSA, a USB foot switch, DMA heaps. */
describe('classbox doctor on a Pi 5 tree', () => {
  let root: string;
  let env: DoctorEnv;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'classbox-doctor-'));
    const sys = join(root, 'sys');
    cpSync(join(FIXTURES, 'sysfs-gpio/pi5-kernel-6.6'), sys, { recursive: true });
    writeFileSync(join(sys, 'class/gpio/export'), '');
    cpSync(join(FIXTURES, 'sysfs-v4l2/pi4-c920/class/video4linux'), join(sys, 'class/video4linux'), {
      recursive: true,
    });
    const foot = join(sys, 'class/input/event4/device');
    mkdirSync(join(foot, 'capabilities'), { recursive: true });
    writeFileSync(join(foot, 'name'), 'PCsensor FootSwitch\n');
    writeFileSync(
      join(foot, 'capabilities/key'),
      '1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe\n',
    );
    const proc = join(root, 'proc');
    cpSync(join(FIXTURES, 'alsa/pi5-usb-mic'), proc, { recursive: true });
    mkdirSync(join(proc, 'device-tree'));
    writeFileSync(join(proc, 'device-tree/model'), 'Raspberry Pi 5 Model B Rev 1.0\0');
    const dev = join(root, 'dev');
    mkdirSync(join(dev, 'input'), { recursive: true });
    execFileSync('mkfifo', [join(dev, 'input/event4')]);
    mkdirSync(join(dev, 'dma_heap'));
    writeFileSync(join(dev, 'dma_heap/linux,cma'), '');
    writeFileSync(join(dev, 'dma_heap/system'), '');
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'pinctrl'), FAKE_PINCTRL);
    writeFileSync(join(bin, 'systemctl'), '#!/bin/bash\necho inactive\nexit 3\n');
    chmodSync(join(bin, 'pinctrl'), 0o755);
    chmodSync(join(bin, 'systemctl'), 0o755);
    writeFileSync(join(root, 'config.txt'), '[all]\ndtparam=audio=on\n');
    writeFileSync(join(root, 'wayland-0'), '');
    const clock = new SystemClock();
    env = {
      sysRoot: sys,
      procRoot: proc,
      devRoot: dev,
      bootConfig: join(root, 'config.txt'),
      kioskSocket: join(root, 'wayland-0'),
      pinctrl: join(bin, 'pinctrl'),
      systemctl: join(bin, 'systemctl'),
      processes: new NodeProcesses(),
      files,
      clock,
      keys: async (options) => new EvdevKeyInput(clock, options),
    };
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const hardware = hardwareConfigSchema.parse({
    buttons: { mute: { source: 'usb', device: 'FootSwitch', key: 'KEY_ENTER' } },
  });
  const byName = async () => new Map((await runDoctor(hardware, env)).map((c) => [c.name, c]));

  it('says what to fix when the pull-ups are missing, and how', async () => {
    const checks = await byName();
    expect(checks.get('board')).toMatchObject({ ok: true, detail: 'Raspberry Pi 5 Model B Rev 1.0' });
    expect(checks.get('gpio chip')).toMatchObject({
      ok: true,
      detail: expect.stringContaining('pinctrl-rp1, base 571'),
    });
    expect(checks.get('gpio access')?.ok).toBe(true);
    expect(checks.get('class button')).toEqual({
      name: 'class button',
      ok: false,
      detail: 'GPIO 17: pull pd, reads lo; a button to GND needs pu',
      fix: 'sudo /usr/lib/classbox/boot-config /boot/firmware/config.txt 17 22,23 && sudo reboot',
    });
    expect(checks.get('config.txt')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('lacks gpio=17=ip,pu, gpio=22=op,dl, gpio=23=op,dl'),
    });
    expect(checks.get('mute button')).toMatchObject({
      ok: true,
      detail: expect.stringContaining('USB PCsensor FootSwitch'),
    });
    expect(checks.get('camera (uvc)')).toMatchObject({ ok: true, detail: expect.stringContaining('C920') });
    expect(checks.get('dma heaps')?.ok).toBe(true);
    expect(checks.get('microphone')?.ok).toBe(true);
    expect(checks.get('display')).toMatchObject({ ok: true });
    expect(formatDoctor([...checks.values()])).toMatch(
      /^FIX {2}class button {2}GPIO 17: pull pd.*\n {19}→ sudo \/usr\/lib\/classbox\/boot-config/m,
    );
  });

  it('is all ok for the GPIO button once the package script has written config.txt and the pull took', async () => {
    execFileSync(join(REPO, 'images/deb/boot-config'), [env.bootConfig, '17', '22,23']);
    writeFileSync(join(root, 'bin/pull.17'), 'pu\n');
    writeFileSync(join(root, 'bin/level.17'), 'hi\n');
    const checks = await byName();
    expect(checks.get('config.txt')).toMatchObject({ ok: true });
    expect(checks.get('class button')).toMatchObject({
      ok: true,
      detail: 'GPIO 17: input, pull pu, reads released (hi)',
    });
    writeFileSync(join(root, 'bin/level.17'), 'lo\n');
    expect((await byName()).get('class button')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('reads lo: pressed, stuck'),
    });
  });
});
