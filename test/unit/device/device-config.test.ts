import { describe, expect, it } from 'vitest';
import { ConfigError, parseDeviceConfig } from '../../../device/config/device-config.loader.js';
import { redactConfig } from '../../../device/config/device-config.schema.js';

const minimal = {
  device: { id: 'jx-ruijin-01', displayName: '瑞金教学点' },
  janus: { url: 'ws://janus.local:8188', room: 2222 },
};

function errors(raw: unknown): string[] {
  try {
    parseDeviceConfig(raw, 'test.json');
  } catch (error) {
    if (error instanceof ConfigError) return error.lines;
    throw error;
  }
  return [];
}

describe('the device config', () => {
  it('fills every default from the essentials alone', () => {
    const config = parseDeviceConfig(minimal, 'test.json');
    expect(config.hardware.mode).toBe('pi');
    expect(config.hardware.gpio).toMatchObject({ classButton: 17, muteButton: 27, activeLow: true });
    expect(config.session.endHoldMs).toBe(2000);
    expect(config.control.port).toBe(8470);
    expect(config.kiosk.browser).toBe('chromium');
  });

  it('names each bad field with its path, one line each', () => {
    const lines = errors({
      device: { id: 'Bad Id!', displayName: '' },
      janus: { url: 'http://x', room: 'twelve' },
      hardware: { mode: 'laptop' },
      control: { port: 70000 },
    });
    expect(lines).toHaveLength(6);
    expect(lines.find((l) => l.startsWith('device.id:'))).toContain('lower-case');
    expect(lines.find((l) => l.startsWith('janus.url:'))).toContain('ws://');
    expect(lines.find((l) => l.startsWith('janus.room:'))).toMatch(/number/);
    expect(lines.find((l) => l.startsWith('hardware.mode:'))).toMatch(/"pi"|pi/);
    expect(lines.find((l) => l.startsWith('control.port:'))).toContain('65535');
  });

  it('requires the Janus URL and room unless a fleet server is named', () => {
    expect(errors({ device: minimal.device })).toEqual([
      expect.stringMatching(/^janus\.url: required/),
      expect.stringMatching(/^janus\.room: required/),
    ]);
    expect(errors({ device: minimal.device, fleet: { url: 'https://fleet.example.cn' } })).toEqual([]);
  });

  it('refuses unknown keys, so a typo is not silently ignored', () => {
    expect(errors({ ...minimal, kiosk: { headles: true } })).toEqual([
      expect.stringMatching(/^kiosk: .*headles/),
    ]);
  });

  it('never shows secrets when printed', () => {
    const config = parseDeviceConfig(
      {
        ...minimal,
        janus: {
          ...minimal.janus,
          pin: '1234',
          token: 'tok',
          apiSecret: 's3cret',
          iceServers: [{ urls: 'turn:t', username: 'u', credential: 'pw' }],
        },
      },
      'test.json',
    );
    const text = JSON.stringify(redactConfig(config));
    for (const secret of ['1234', '"tok"', 's3cret', '"pw"']) expect(text).not.toContain(secret);
    expect(config.janus.pin).toBe('1234');
  });
});
