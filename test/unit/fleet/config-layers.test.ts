import { describe, expect, it } from 'vitest';
import { desiredConfigSchema } from '../../../common/fleet-protocol.js';
import { applyDesired, layerConfig } from '../../../device/config/config-layers.js';
import { deviceConfigSchema } from '../../../device/config/device-config.schema.js';

const file = {
  fleet: { url: 'https://fleet.example.cn' },
  hardware: { mode: 'sim' },
  janus: { bitrateKbps: 800, pin: 'old-pin' },
};

describe('layerConfig', () => {
  it('makes a valid config from a fleet file and the identity alone (no room yet)', () => {
    const raw = layerConfig(file, { id: 'jx-ruijin-01', displayName: '瑞金教学点' });
    const config = deviceConfigSchema.parse(raw);
    expect(config.device).toEqual({ id: 'jx-ruijin-01', displayName: '瑞金教学点' });
    expect(config.janus.url).toBeUndefined();
  });

  it('lets the identity win over ids in the file and the fleet config win over both', () => {
    const desired = desiredConfigSchema.parse({
      device: { displayName: '瑞金一号', centreName: '瑞金教学点' },
      janus: { url: 'wss://janus.example.cn', room: 4321 },
      session: { endHoldMs: 3000 },
    });
    const raw = layerConfig(
      { ...file, device: { id: 'from-file', displayName: 'file' } },
      { id: 'jx-ruijin-01', displayName: 'seed' },
      desired,
    );
    const config = deviceConfigSchema.parse(raw);
    expect(config.device).toEqual({ id: 'jx-ruijin-01', displayName: '瑞金一号', centreName: '瑞金教学点' });
    expect(config.janus).toMatchObject({ url: 'wss://janus.example.cn', room: 4321, bitrateKbps: 800 });
    expect(config.session.endHoldMs).toBe(3000);
  });

  it('removes a room pin the fleet no longer sends', () => {
    const desired = desiredConfigSchema.parse({ janus: { url: 'wss://janus.example.cn', room: 1 } });
    expect(applyDesired(file, desired).janus).not.toHaveProperty('pin');
    const withPin = desiredConfigSchema.parse({
      janus: { url: 'wss://janus.example.cn', room: 1, pin: 'new' },
    });
    expect(applyDesired(file, withPin).janus).toMatchObject({ pin: 'new' });
  });

  it('leaves a file that is not an object for the schema to reject', () => {
    expect(layerConfig([1, 2], { id: 'a-1', displayName: 'x' })).toEqual([1, 2]);
  });

  it('never changes the file it was given', () => {
    const copy = structuredClone(file);
    layerConfig(
      file,
      { id: 'jx-ruijin-01', displayName: 'x' },
      desiredConfigSchema.parse({ janus: { room: 9 } }),
    );
    expect(file).toEqual(copy);
  });
});
