import { join } from 'node:path';
import { reason } from '../../common/errors.js';
import { AlsaDevices, AlsaMicrophone, AlsaSpeaker } from '../adapters/audio.alsa.js';
import { DeviceTreeBoard } from '../adapters/board.device-tree.js';
import { CsiCameraAdapter } from '../adapters/camera.csi.js';
import { UvcCameraAdapter } from '../adapters/camera.uvc.js';
import type { Files } from '../adapters/files.fs.js';
import { parsePinctrlGet } from '../adapters/gpio-bias.pinctrl.js';
import { readGpioChips } from '../adapters/gpio-chips.sysfs.js';
import type { EvdevOptions } from '../adapters/key-input.evdev.js';
import type { DeviceConfig } from '../config/device-config.schema.js';
import { describeChips, findHeaderChip } from '../domain/gpio-chips.js';
import { keyCode, keyName } from '../domain/input-events.js';
import type { ClockPort } from '../ports/clock.port.js';
import type { DeviceHealth } from '../ports/health.js';
import type { KeyDeviceState, KeyInputPort } from '../ports/key-input.port.js';
import type { ProcessPort } from '../ports/process.port.js';

/** One line of the report: what was checked, ok or not, what was seen, and what to do when not ok. */
export interface DoctorCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly fix?: string;
}

export interface DoctorEnv {
  readonly sysRoot: string;
  readonly procRoot: string;
  readonly devRoot: string;
  /** The firmware's config.txt (Raspberry Pi OS bookworm and later: /boot/firmware/config.txt). */
  readonly bootConfig: string;
  /** The kiosk session's Wayland socket (classbox-kiosk-session.service). */
  readonly kioskSocket: string;
  readonly pinctrl: string;
  readonly systemctl: string;
  readonly processes: ProcessPort;
  readonly files: Files;
  readonly clock: ClockPort;
  /** The USB button source, given the roots above (imported lazily: it loads the epoll addon). */
  readonly keys: (options: Partial<EvdevOptions>) => Promise<KeyInputPort>;
}

type Hardware = DeviceConfig['hardware'];
const BOOT_CONFIG_FIX = (buttons: number[], leds: number[]) =>
  `sudo /usr/lib/classbox/boot-config /boot/firmware/config.txt ${buttons.join(',')} ${leds.join(',')} && sudo reboot`;

/**
 * What `classbox doctor` checks on a real Pi 4 or Pi 5 (issue 12): the board, the GPIO chip, access and
 * pulls, the config.txt lines, USB buttons, the camera, the DMA heaps, audio and the display session.
 * Each check uses the daemon's own adapters, so it sees what the daemon would.
 */
export async function runDoctor(hardware: Hardware, env: DoctorEnv): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (check: DoctorCheck) => void checks.push(check);

  const board = await new DeviceTreeBoard(env.procRoot).model();
  const onPi = board?.includes('Raspberry Pi') === true;
  add(
    board
      ? {
          name: 'board',
          ok: onPi,
          detail: board,
          fix: onPi ? undefined : 'not a Raspberry Pi: GPIO and CSI do not apply',
        }
      : {
          name: 'board',
          ok: false,
          detail: `no ${join(env.procRoot, 'device-tree/model')}: not a Raspberry Pi`,
          fix: 'run this on the box; on a PC only USB buttons, UVC cameras and audio apply',
        },
  );

  const gpioButtons = (['class', 'mute'] as const)
    .filter((name) => hardware.buttons[name].source === 'gpio')
    .map((name) => ({ name, pin: name === 'class' ? hardware.gpio.classButton : hardware.gpio.muteButton }));
  const leds = [hardware.gpio.statusLed, hardware.gpio.muteLed];
  const fixBoot = BOOT_CONFIG_FIX(
    gpioButtons.map((b) => b.pin),
    leds,
  );

  const { chips, skipped } = await readGpioChips(env.sysRoot);
  const chip = findHeaderChip(chips);
  add(
    chip
      ? {
          name: 'gpio chip',
          ok: true,
          detail: `${chip.name} ${chip.label}, base ${chip.base} (BCM n is line ${chip.base}+n)`,
        }
      : {
          name: 'gpio chip',
          ok: false,
          detail: `no header GPIO chip among: ${describeChips(chips)}${skipped.length ? `; unreadable: ${skipped.join(', ')}` : ''}`,
          fix: 'a Raspberry Pi kernel with sysfs GPIO (CONFIG_GPIO_SYSFS) is needed for wired buttons and LEDs',
        },
  );
  const exportFile = join(env.sysRoot, 'class/gpio/export');
  const canExport = await env.files.readWrite(exportFile);
  add({
    name: 'gpio access',
    ok: canExport,
    detail: canExport ? `${exportFile} is writable` : `${exportFile} is not writable by this user`,
    fix: canExport
      ? undefined
      : 'run as the classbox user (sudo -u classbox classbox doctor); the package installs /usr/lib/udev/rules.d/60-classbox.rules: sudo udevadm trigger, and check that `id classbox` lists gpio',
  });

  const wantPull = hardware.gpio.activeLow ? 'pu' : 'pd';
  for (const { name, pin } of gpioButtons) {
    const label = `${name} button`;
    const got = await env.processes
      .run({ label: 'pinctrl', command: env.pinctrl, args: ['get', String(pin)] }, 5000)
      .then(
        (r) =>
          r.code === 0
            ? parsePinctrlGet(r.stdout, pin)
            : `pinctrl get ${pin}: ${r.stdout.trim() || `exit ${r.code}`}`,
        (error: unknown) => `can't run pinctrl: ${reason(error)}`,
      );
    if (typeof got === 'string' || got === undefined) {
      add({
        name: label,
        ok: false,
        detail: got ?? `pinctrl get ${pin} printed no state`,
        fix: 'install raspi-utils (pinctrl), and run as a member of gpio',
      });
      continue;
    }
    const released = hardware.gpio.activeLow ? 'hi' : 'lo';
    if (got.pull !== wantPull) {
      add({
        name: label,
        ok: false,
        detail: `GPIO ${pin}: pull ${got.pull}, reads ${got.level}; a button to ${hardware.gpio.activeLow ? 'GND' : '3V3'} needs ${wantPull}`,
        fix: fixBoot,
      });
    } else if (got.level !== released) {
      add({
        name: label,
        ok: false,
        detail: `GPIO ${pin}: pull ${got.pull} but reads ${got.level}: pressed, stuck, or wired to the wrong pin`,
        fix: 'release the button; check the wiring (docs/hardware.md, "Wiring")',
      });
    } else {
      add({
        name: label,
        ok: true,
        detail: `GPIO ${pin}: input, pull ${got.pull}, reads released (${got.level})`,
      });
    }
  }

  const bootText = await env.files.text(env.bootConfig);
  if (onPi || bootText !== undefined) {
    const pulled = new Set<number>();
    const driven = new Set<number>();
    for (const line of (bootText ?? '').split('\n')) {
      const m = /^gpio=([\d,-]+)=(ip,pu|op,dl)\s*$/.exec(line.trim());
      if (!m) continue;
      for (const part of m[1]!.split(',')) {
        const [from, to] = part.split('-').map(Number);
        for (let n = from!; n <= (to ?? from!); n++) (m[2] === 'ip,pu' ? pulled : driven).add(n);
      }
    }
    const missing = [
      ...(hardware.gpio.activeLow
        ? gpioButtons.filter((b) => !pulled.has(b.pin)).map((b) => `gpio=${b.pin}=ip,pu`)
        : []),
      ...leds.filter((n) => !driven.has(n)).map((n) => `gpio=${n}=op,dl`),
    ];
    add({
      name: 'config.txt',
      ok: bootText !== undefined && missing.length === 0,
      detail:
        bootText === undefined
          ? `${env.bootConfig} not found`
          : missing.length === 0
            ? `${env.bootConfig} sets the pulls and LED levels`
            : `${env.bootConfig} lacks ${missing.join(', ')}`,
      fix: bootText !== undefined && missing.length === 0 ? undefined : fixBoot,
    });
  }

  for (const name of ['class', 'mute'] as const) {
    const source = hardware.buttons[name];
    if (source.source !== 'usb') continue;
    const key = keyCode(source.key)!;
    const keys = await env.keys({ sysRoot: env.sysRoot, devRoot: env.devRoot, scanMs: 60_000 });
    const input = await keys.open({ label: `${name} button`, device: source.device, key });
    let state: KeyDeviceState | undefined;
    input.watch((event) => {
      if (event.type === 'device') state = event.state;
    });
    await input.close();
    add(
      state?.present
        ? {
            name: `${name} button`,
            ok: true,
            detail: `USB ${state.name} (${state.path}), key ${keyName(key)}`,
          }
        : {
            name: `${name} button`,
            ok: false,
            detail: `USB: ${state?.problem ?? 'not found'}`,
            fix:
              state?.code === 'E-BUTTON-USB-ACCESS'
                ? 'add the classbox user to group input (the package does), then restart classbox'
                : `plug it in; hardware.buttons.${name}.device must be part of the name shown by: cat /sys/class/input/event*/device/name`,
          },
    );
  }

  const { camera } = hardware;
  const cameraHealth: DeviceHealth =
    camera.kind === 'csi'
      ? await new CsiCameraAdapter(
          env.processes,
          env.clock,
          { ...camera, loopback: camera.csiLoopback },
          undefined,
          env.sysRoot,
        ).check()
      : await new UvcCameraAdapter(camera.name, env.sysRoot).check();
  add(
    health(
      `camera (${camera.kind})`,
      cameraHealth,
      camera.kind === 'csi' ? 'docs/hardware.md, "Camera"' : 'plug in a USB (UVC) camera',
    ),
  );

  const heaps = await env.files.list(join(env.devRoot, 'dma_heap'));
  if (camera.kind === 'csi' || heaps.length > 0) {
    const closed: string[] = [];
    for (const heap of heaps)
      if (!(await env.files.readWrite(join(env.devRoot, 'dma_heap', heap)))) closed.push(heap);
    add({
      name: 'dma heaps',
      ok: heaps.length > 0 && closed.length === 0,
      detail:
        heaps.length === 0
          ? `no ${join(env.devRoot, 'dma_heap')}`
          : closed.length
            ? `not usable by this user: ${closed.join(', ')}`
            : `${heaps.join(', ')} usable`,
      fix:
        heaps.length > 0 && closed.length === 0
          ? undefined
          : "the package's udev rule gives /dev/dma_heap/* to group video: sudo udevadm trigger, and check that `id classbox` lists video",
    });
  }

  const alsa = new AlsaDevices(env.processes, env.procRoot);
  add(
    health(
      'microphone',
      await new AlsaMicrophone(alsa, hardware.microphone.name).check(),
      'plug in the microphone; hardware.microphone.name picks one',
    ),
  );
  add(
    health(
      'speaker',
      await new AlsaSpeaker(alsa, hardware.speaker.name).check(),
      'connect the TV (HDMI) or a USB speaker; hardware.speaker.name picks one',
    ),
  );

  const session = await env.files.exists(env.kioskSocket);
  const manager = await env.processes
    .run({ label: 'systemctl', command: env.systemctl, args: ['is-active', 'display-manager.service'] }, 5000)
    .then(
      (r) => r.stdout.trim(),
      () => 'unknown',
    );
  add({
    name: 'display',
    ok: session && manager !== 'active',
    detail: `kiosk session ${session ? `up (${env.kioskSocket})` : 'not running'}; desktop display manager ${manager === 'active' ? 'running' : 'not running'}`,
    fix:
      manager === 'active'
        ? 'a desktop image: its display manager owns the screen. Use Raspberry Pi OS Lite, or sudo systemctl disable --now display-manager'
        : session
          ? undefined
          : 'sudo systemctl enable --now classbox-kiosk-session (it needs labwc and a screen on HDMI)',
  });
  return checks;
}

function health(name: string, value: DeviceHealth, fix: string): DoctorCheck {
  const ok = value.status === 'ok';
  return {
    name,
    ok,
    detail: ok ? (value.detail ?? 'ok') : `${value.code ?? value.status}: ${value.detail ?? ''}`.trim(),
    fix: ok ? undefined : fix,
  };
}

/** `ok   name   detail` per check, and the fix under each one that is not ok. */
export function formatDoctor(checks: readonly DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks
    .map((c) => {
      const line = `${c.ok ? 'ok ' : 'FIX'}  ${c.name.padEnd(width)}  ${c.detail}`;
      return c.ok || !c.fix ? line : `${line}\n${' '.repeat(width + 7)}→ ${c.fix}`;
    })
    .join('\n');
}
