import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PinctrlGpioBias, parsePinctrlGet } from '../../../device/adapters/gpio-bias.pinctrl.js';
import { SimGpio } from '../../../device/adapters/gpio.sim.js';
import { SimGpioBias } from '../../../device/adapters/gpio-bias.sim.js';
import { SimKeyInput } from '../../../device/adapters/key-input.sim.js';
import { NodeProcesses } from '../../../device/adapters/process.node.js';
import { deviceConfigSchema } from '../../../device/config/device-config.schema.js';
import {
  INITIAL_SESSION,
  transition,
  type SessionEvent,
} from '../../../device/domain/class-session.machine.js';
import { GpioBiasError, GpioBiasPort } from '../../../device/ports/gpio-bias.port.js';
import type { DeviceHealth } from '../../../device/ports/health.js';
import { ButtonsService } from '../../../device/services/buttons.service.js';
import type { ClassSessionService } from '../../../device/services/class-session.service.js';
import { ConfigService } from '../../../device/services/config.service.js';
import type { HealthService } from '../../../device/services/health.service.js';
import { MetricsService } from '../../../device/services/metrics.service.js';
import type { MuteService } from '../../../device/services/mute.service.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { strictFake } from '../../helpers/strict-fake.js';

/**
 * A stand-in for Raspberry Pi's pinctrl (raspberrypi/utils pinctrl/pinctrl.c): the same `set <gpio> ip pu`
 * and `get <gpio>` syntax and output line, its argv recorded, the pulls kept in files next to it.
 */
const FAKE_PINCTRL = `#!/bin/bash
set -euo pipefail
dir="$(dirname "$0")"
printf '%s\\n' "$*" >>"$dir/argv.log"
if [[ -f "$dir/no-access" ]]; then echo "Failed to initialise gpiolib - -1"; exit 255; fi
case "$1" in
  set)
    gpio="$2"; shift 2; pull=""
    for arg in "$@"; do
      case "$arg" in
        ip | op) ;;
        pu | pd | pn) pull="$arg" ;;
        *) echo "Unknown option '$arg'"; exit 1 ;;
      esac
    done
    if [[ -n "$pull" && ! -f "$dir/pull-ignored" ]]; then echo "$pull" >"$dir/pull.$gpio"; fi
    ;;
  get)
    gpio="$2"
    pull="$(cat "$dir/pull.$gpio" 2>/dev/null || echo pd)"
    level=lo; if [[ "$pull" == pu ]]; then level=hi; fi
    printf '%2d: ip    %s | %s // GPIO%d = input\\n' "$gpio" "$pull" "$level" "$gpio"
    ;;
  *) echo "Unknown command"; exit 1 ;;
esac
`;

describe('PinctrlGpioBias through the process port', () => {
  let dir: string;
  let pinctrl: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-pinctrl-'));
    pinctrl = join(dir, 'pinctrl');
    writeFileSync(pinctrl, FAKE_PINCTRL);
    chmodSync(pinctrl, 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const argv = () => (existsSync(join(dir, 'argv.log')) ? readFileSync(join(dir, 'argv.log'), 'utf8') : '');

  it('sets a pull-up with argument arrays and checks that it took', async () => {
    await new PinctrlGpioBias(new NodeProcesses(), pinctrl).ensureBias(17, 'pull-up');
    await new PinctrlGpioBias(new NodeProcesses(), pinctrl).ensureBias(5, 'pull-down');
    expect(argv()).toBe('set 17 ip pu\nget 17\nset 5 ip pd\nget 5\n');
  });

  it('says E-GPIO-BIAS when the pull did not take, pinctrl cannot reach the GPIOs, or is not installed', async () => {
    writeFileSync(join(dir, 'pull-ignored'), '');
    const ignored = new PinctrlGpioBias(new NodeProcesses(), pinctrl).ensureBias(17, 'pull-up');
    await expect(ignored).rejects.toThrow(GpioBiasError);
    await expect(ignored).rejects.toMatchObject({
      code: 'E-GPIO-BIAS',
      message: 'GPIO 17 still has pull "pd" after pinctrl set 17 ip pu',
    });

    writeFileSync(join(dir, 'no-access'), '');
    await expect(
      new PinctrlGpioBias(new NodeProcesses(), pinctrl).ensureBias(27, 'pull-up'),
    ).rejects.toMatchObject({
      code: 'E-GPIO-BIAS',
      message: 'pinctrl set 27 ip pu failed (exit 255): Failed to initialise gpiolib - -1',
    });

    const missing = new PinctrlGpioBias(new NodeProcesses(), join(dir, 'not-installed')).ensureBias(
      17,
      'pull-up',
    );
    await expect(missing).rejects.toMatchObject({
      code: 'E-GPIO-BIAS',
      message: expect.stringMatching(
        /^can't run pinctrl .*: install raspi-utils, or rely on config\.txt's gpio=17=ip,pu$/,
      ),
    });
  });

  it('never passes a number outside the header to pinctrl', async () => {
    const bias = new PinctrlGpioBias(new NodeProcesses(), pinctrl);
    for (const bad of [1, 28, 17.5, Number.NaN]) {
      await expect(bias.ensureBias(bad, 'pull-up')).rejects.toMatchObject({ code: 'E-GPIO-BIAS' });
    }
    expect(argv()).toBe('');
  });

  it('reads pinctrl get lines for inputs and outputs', () => {
    expect(parsePinctrlGet('17: ip    pu | hi // GPIO17 = input\n', 17)).toEqual({
      fsel: 'ip',
      pull: 'pu',
      level: 'hi',
    });
    expect(parsePinctrlGet('22: op dl pn | lo // GPIO22 = output\n', 22)).toEqual({
      fsel: 'op',
      pull: 'pn',
      level: 'lo',
    });
    expect(parsePinctrlGet(' 9: a0    pd | lo // GPIO9 = SPI0_MISO\n', 9)).toEqual({
      fsel: 'a0',
      pull: 'pd',
      level: 'lo',
    });
    expect(parsePinctrlGet('17: ip    pu | hi // GPIO17 = input\n', 27)).toBeUndefined();
  });
});

const config = new ConfigService(
  deviceConfigSchema.parse({
    device: { id: 'jx-test-01', displayName: '测试教学点' },
    janus: { url: 'ws://127.0.0.1:8188', room: 1234 },
    hardware: { mode: 'sim' },
  }),
);

async function buttons(bias: GpioBiasPort, prepare: (gpio: SimGpio) => void = () => undefined) {
  const clock = new FakeClock();
  const gpio = new SimGpio(clock);
  prepare(gpio);
  const events: SessionEvent['type'][] = [];
  let snapshot = INITIAL_SESSION;
  const session = {
    get state() {
      return snapshot;
    },
    dispatch(event: SessionEvent) {
      events.push(event.type);
      snapshot = transition(snapshot, event).next;
      return true;
    },
  };
  const health: DeviceHealth[] = [];
  const service = new ButtonsService(
    gpio,
    clock,
    session as unknown as ClassSessionService,
    strictFake<MuteService>('mute', {}),
    new MetricsService(),
    config,
    strictFake<HealthService>('health', { set: (_key, value) => void health.push(value) }),
    new SimKeyInput(clock),
    bias,
  );
  await service.onModuleInit();
  return { clock, gpio, events, health };
}

describe('ButtonsService pulls and the level at start', () => {
  it('asks for a pull-up on each active-low button before it reads it', async () => {
    const bias = new SimGpioBias();
    const { health } = await buttons(bias);
    expect([...bias.biases]).toEqual([
      [17, 'pull-up'],
      [27, 'pull-up'],
    ]);
    expect(health.at(-1)).toEqual({ status: 'ok' });
  });

  it('reports E-GPIO-BIAS when the pull cannot be set, and the buttons still work', async () => {
    const failing = strictFake<GpioBiasPort>('bias', {
      ensureBias: async () => {
        throw new GpioBiasError("can't run pinctrl (not found)");
      },
    });
    const { clock, gpio, events, health } = await buttons(failing);
    expect(health.at(-1)).toEqual({
      status: 'error',
      code: 'E-GPIO-BIAS',
      detail: "class button: can't run pinctrl (not found); mute button: can't run pinctrl (not found)",
    });
    gpio.simulateInput(17, 1);
    await clock.advance(150);
    gpio.simulateInput(17, 0);
    await clock.advance(100);
    expect(events).toEqual(['classPressed']);
  });

  it('treats a button that reads pressed at start as stuck, never a press, and usable once released', async () => {
    const { clock, gpio, events, health } = await buttons(new SimGpioBias(), (g) => g.holdBeforeOpen(17));
    expect(health.at(-1)).toMatchObject({ status: 'error', code: 'E-BUTTON-STUCK' });
    await clock.advance(6000);
    expect(events).toEqual([]);
    gpio.simulateInput(17, 0);
    await clock.advance(100);
    expect(health.at(-1)).toEqual({ status: 'ok' });
    expect(events).toEqual([]);
    gpio.simulateInput(17, 1);
    await clock.advance(150);
    gpio.simulateInput(17, 0);
    await clock.advance(100);
    expect(events).toEqual(['classPressed']);
  });
});
