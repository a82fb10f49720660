import { describe, expect, it } from 'vitest';
import { SimGpio } from '../../../device/adapters/gpio.sim.js';
import { SimGpioBias } from '../../../device/adapters/gpio-bias.sim.js';
import { SimKeyInput } from '../../../device/adapters/key-input.sim.js';
import { OnoffGpio } from '../../../device/adapters/gpio.onoff.js';
import { join } from 'node:path';
import { deviceConfigSchema } from '../../../device/config/device-config.schema.js';
import {
  INITIAL_SESSION,
  transition,
  type SessionEvent,
  type SessionSnapshot,
  type SessionState,
} from '../../../device/domain/class-session.machine.js';
import { ButtonsService } from '../../../device/services/buttons.service.js';
import type { ClassSessionService } from '../../../device/services/class-session.service.js';
import { ConfigService } from '../../../device/services/config.service.js';
import type { HealthService } from '../../../device/services/health.service.js';
import { LedService } from '../../../device/services/led.service.js';
import { MetricsService } from '../../../device/services/metrics.service.js';
import type { MuteService } from '../../../device/services/mute.service.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { strictFake } from '../../helpers/strict-fake.js';

const config = new ConfigService(
  deviceConfigSchema.parse({
    device: { id: 'jx-test-01', displayName: '测试教学点' },
    janus: { url: 'ws://127.0.0.1:8188', room: 1234 },
    hardware: { mode: 'sim' },
  }),
);
const { classButton, muteButton, statusLed, muteLed } = config.current.hardware.gpio;

/** The real session machine without Janus: records what the buttons asked for. */
class MachineOnly {
  snapshot: SessionSnapshot = INITIAL_SESSION;
  readonly events: SessionEvent['type'][] = [];
  get state(): SessionSnapshot {
    return this.snapshot;
  }
  dispatch(event: SessionEvent): boolean {
    this.events.push(event.type);
    const { next, effects } = transition(this.snapshot, event);
    const changed = next !== this.snapshot;
    this.snapshot = next;
    return changed || effects.length > 0;
  }
  force(state: SessionState): void {
    this.snapshot = { state };
  }
}

async function buttons() {
  const clock = new FakeClock();
  const gpio = new SimGpio(clock);
  const session = new MachineOnly();
  let toggles = 0;
  const mute = strictFake<MuteService>('mute', { toggle: () => void toggles++ });
  const service = new ButtonsService(
    gpio,
    clock,
    session as unknown as ClassSessionService,
    mute,
    new MetricsService(),
    config,
    strictFake<HealthService>('health', { set: () => undefined }),
    new SimKeyInput(clock),
    new SimGpioBias(),
  );
  await service.onModuleInit();
  /** Drive the class button pin: `true` pressed. */
  const pin = (bcm: number, pressed: boolean): void => gpio.simulateInput(bcm, pressed ? 1 : 0);
  return { clock, session, pin, service, toggles: () => toggles };
}

describe('ButtonsService press timing on a fake clock', () => {
  it('starts the class as a bouncy press goes down, once, before the release', async () => {
    const { clock, session, pin } = await buttons();
    pin(classButton, true);
    await clock.advance(3);
    pin(classButton, false);
    await clock.advance(4);
    pin(classButton, true);
    // Down for longer than the debounce: the class has started while the button is still held.
    await clock.advance(40);
    expect(session.events).toEqual(['classPressed']);
    expect(session.state.state).toBe('joining');
    await clock.advance(110);
    pin(classButton, false);
    await clock.advance(2);
    pin(classButton, true);
    await clock.advance(3);
    pin(classButton, false);
    await clock.advance(100);
    expect(session.events).toEqual(['classPressed']);
  });

  it('ignores a glitch shorter than the debounce time', async () => {
    const { clock, session, pin } = await buttons();
    pin(classButton, true);
    await clock.advance(10);
    pin(classButton, false);
    await clock.advance(500);
    expect(session.events).toEqual([]);
  });

  it('does not end the class it just started when that press is held on', async () => {
    const { clock, session, pin } = await buttons();
    pin(classButton, true);
    await clock.advance(100);
    session.force('live');
    await clock.advance(3000);
    pin(classButton, false);
    await clock.advance(200);
    expect(session.events).toEqual(['classPressed']);
    expect(session.state.state).toBe('live');
  });

  it('tells the tutor to hold when a live class gets a short press', async () => {
    const { clock, session, pin } = await buttons();
    session.force('live');
    pin(classButton, true);
    await clock.advance(150);
    pin(classButton, false);
    await clock.advance(100);
    expect(session.events).toEqual(['classPressed', 'classReleasedShort']);
    expect(session.state.state).toBe('live');
  });

  it('starts the self-test after holding the mute button 5 s while idle, without toggling mute', async () => {
    const { clock, session, pin, toggles } = await buttons();
    pin(muteButton, true);
    await clock.advance(4990);
    expect(session.events).toEqual([]);
    await clock.advance(100);
    expect(session.events).toEqual(['selfTestHoldReached']);
    pin(muteButton, false);
    await clock.advance(200);
    expect(session.events).toEqual(['selfTestHoldReached']);
    expect(toggles()).toBe(0);
    expect(session.state.state).toBe('idle');
  });

  it('no longer starts the self-test on a long hold of the class button while idle', async () => {
    const { clock, session, pin } = await buttons();
    pin(classButton, true);
    await clock.advance(6000);
    pin(classButton, false);
    await clock.advance(200);
    expect(session.events).toEqual(['classPressed']);
  });

  it('ends a live class on a 2 s hold and counts down while held', async () => {
    const { clock, session, pin, service } = await buttons();
    session.force('live');
    pin(classButton, true);
    await clock.advance(500);
    expect(service.endCountdownMs()).toBe(1500);
    await clock.advance(1550);
    expect(session.events).toEqual(['classPressed', 'classEndHoldReached']);
    expect(session.state.state).toBe('leaving');
    pin(classButton, false);
    await clock.advance(200);
    expect(session.events).toEqual(['classPressed', 'classEndHoldReached']);
  });

  it('toggles mute on the release of a short press of the mute button', async () => {
    const { clock, pin, toggles } = await buttons();
    pin(muteButton, true);
    await clock.advance(100);
    expect(toggles()).toBe(0);
    pin(muteButton, false);
    await clock.advance(100);
    expect(toggles()).toBe(1);
  });

  it('still toggles mute on a long mute hold in class (the self-test is for idle only)', async () => {
    const { clock, session, pin, toggles } = await buttons();
    session.force('live');
    pin(muteButton, true);
    await clock.advance(6000);
    pin(muteButton, false);
    await clock.advance(100);
    expect(session.events).toEqual(['selfTestHoldReached']);
    expect(toggles()).toBe(1);
  });
});

describe('ButtonsService without a usable header', () => {
  it('keeps the daemon going and reports the buttons as an error naming the pin and the chips', async () => {
    const clock = new FakeClock();
    const noHeader = join(import.meta.dirname, '../../fixtures/hardware/sysfs-gpio/pc-no-header');
    const gpio = new OnoffGpio(clock, undefined, noHeader);
    const reported: unknown[] = [];
    const health = strictFake<HealthService>('health', {
      set: (key, value) => void reported.push([key, value]),
    });
    const mute = strictFake<MuteService>('mute', {});
    const service = new ButtonsService(
      gpio,
      clock,
      new MachineOnly() as never,
      mute,
      new MetricsService(),
      config,
      health,
      new SimKeyInput(clock),
      new SimGpioBias(),
    );
    await service.onModuleInit();
    expect(reported).toEqual([
      [
        'buttons',
        {
          status: 'error',
          code: 'E-GPIO-CHIP',
          detail: expect.stringMatching(
            /^GPIO 17 \(BCM\) for the class button has no line: .*gpiochip0=INT34C5:00.*; GPIO 27/,
          ),
        },
      ],
    ]);
  });
});

describe('LedService on a fake clock', () => {
  async function leds() {
    const clock = new FakeClock(2_000_000);
    const gpio = new SimGpio(clock);
    const session = new MachineOnly();
    let muted = false;
    const mute = strictFake<MuteService>('mute', {
      get isMuted() {
        return muted;
      },
    });
    const service = new LedService(gpio, clock, session as unknown as ClassSessionService, mute, config);
    await service.onModuleInit();
    service.onApplicationBootstrap();
    /** The status LED level sampled every 25 ms for `ms`. */
    const sample = async (ms: number): Promise<string> => {
      let levels = '';
      for (let t = 0; t < ms; t += 25) {
        levels += String(gpio.outputLevel(statusLed));
        await clock.advance(25);
      }
      return levels;
    };
    return { clock, gpio, session, service, sample, setMuted: (m: boolean) => void (muted = m) };
  }

  it('is off when idle and solid when live', async () => {
    const { session, sample, service } = await leds();
    expect(await sample(1000)).toBe('0'.repeat(40));
    session.force('live');
    await sample(50);
    expect(await sample(1000)).toBe('1'.repeat(40));
    expect(service.patterns().status).toBe('solid');
  });

  it('blinks slowly while joining and fast on an error', async () => {
    const { session, sample } = await leds();
    session.force('joining');
    await sample(1000);
    expect(await sample(1000)).toBe('1'.repeat(20) + '0'.repeat(20));
    session.force('error');
    await sample(1000);
    // 4 Hz; the 50 ms LED tick draws the 125 ms half-periods as 150 ms on, 100 ms off.
    expect(await sample(500)).toBe('1111110000'.repeat(2));
  });

  it('double-blinks during the self-test, whatever the class state', async () => {
    const { session, sample, service } = await leds();
    session.force('error');
    service.setSelfTestRunning(true);
    await sample(1000);
    expect(await sample(1000)).toBe('1111' + '0000' + '1111' + '0'.repeat(28));
    service.setSelfTestRunning(false);
    expect(service.patterns().status).toBe('fast-blink');
  });

  it('lights the mute LED while the microphone is muted', async () => {
    const { gpio, clock, setMuted } = await leds();
    expect(gpio.outputLevel(muteLed)).toBe(0);
    setMuted(true);
    await clock.advance(50);
    expect(gpio.outputLevel(muteLed)).toBe(1);
    setMuted(false);
    await clock.advance(50);
    expect(gpio.outputLevel(muteLed)).toBe(0);
  });
});
