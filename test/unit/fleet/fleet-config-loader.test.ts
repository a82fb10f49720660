import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { desiredConfigSchema } from '../../../common/fleet-protocol.js';
import { FsFleetState } from '../../../device/adapters/fleet-state.fs.js';
import { ConfigError, loadDeviceConfig } from '../../../device/config/device-config.loader.js';

/** The loader's fleet layering against real files in a temp dir. */
describe('loadDeviceConfig on a fleet box', () => {
  let dir: string;
  let configFile: string;
  let seedFile: string;
  const seed = {
    fleetUrl: 'https://fleet.example.cn',
    token: 'cbx_enrol_0123456789abcdef',
    deviceId: 'jx-ruijin-01',
    centreId: 'jx-ruijin',
    displayName: '瑞金教学点',
    expiresAt: '2026-12-07T00:00:00.000Z',
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-layers-'));
    configFile = join(dir, 'device.json');
    seedFile = join(dir, 'boot', 'classbox-enrol.json');
    mkdirSync(join(dir, 'boot'));
    writeFileSync(
      configFile,
      JSON.stringify({
        fleet: { url: 'https://fleet.example.cn', enrolmentFile: seedFile },
        stateDir: join(dir, 'state'),
        hardware: { mode: 'sim' },
      }),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the identity from the enrolment seed at first boot, with no room yet', async () => {
    writeFileSync(seedFile, JSON.stringify(seed));
    const config = await loadDeviceConfig(configFile);
    expect(config.device).toEqual({ id: 'jx-ruijin-01', displayName: '瑞金教学点' });
    expect(config.janus.room).toBeUndefined();
  });

  it('prefers the saved enrolment and lays the last good fleet config on top', async () => {
    const state = new FsFleetState(join(dir, 'state'));
    await state.saveEnrolment({
      deviceId: 'jx-ruijin-02',
      centreId: 'jx-ruijin',
      displayName: '二号',
      fleetUrl: seed.fleetUrl,
      enrolledAt: 'x',
    });
    await state.saveDesired({
      config: desiredConfigSchema.parse({ janus: { url: 'wss://janus.example.cn', room: 4321 } }),
      etag: '"e"',
    });
    const config = await loadDeviceConfig(configFile);
    expect(config.device.id).toBe('jx-ruijin-02');
    expect(config.janus).toMatchObject({ url: 'wss://janus.example.cn', room: 4321 });
    expect(statSync(join(dir, 'state', 'fleet', 'desired-config.json')).mode & 0o777).toBe(0o600);
  });

  it('names a broken enrolment file', async () => {
    writeFileSync(seedFile, JSON.stringify({ ...seed, deviceId: 'Not An Id' }));
    const error = await loadDeviceConfig(configFile).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).lines).toEqual([
      expect.stringMatching(/classbox-enrol\.json: deviceId: expected lower-case/),
    ]);
  });

  it('starts under the placeholder identity when there is neither seed nor enrolment', async () => {
    // Before, the config check failed here and systemd restarted the daemon every 5 s, forever.
    const config = await loadDeviceConfig(configFile);
    expect(config.device).toEqual({ id: 'unenrolled', displayName: '未登记设备 Unenrolled box' });
    expect(config.janus.url).toBeUndefined();
  });

  it('starts on a damaged saved config by ignoring it', async () => {
    writeFileSync(seedFile, JSON.stringify(seed));
    mkdirSync(join(dir, 'state', 'fleet'), { recursive: true });
    writeFileSync(join(dir, 'state', 'fleet', 'desired-config.json'), '{"config": ');
    const config = await loadDeviceConfig(configFile);
    expect(config.device.id).toBe('jx-ruijin-01');
  });

  it('still requires janus.url and janus.room without a fleet', async () => {
    writeFileSync(configFile, JSON.stringify({ device: { id: 'a-1', displayName: 'x' } }));
    const error = (await loadDeviceConfig(configFile).catch((e: unknown) => e)) as ConfigError;
    expect(error.lines).toEqual([
      expect.stringMatching(/^janus\.url: required/),
      expect.stringMatching(/^janus\.room: required/),
    ]);
  });
});

describe('FsFleetState key', () => {
  it('makes an Ed25519 key once, mode 0600, and reuses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'classbox-key-'));
    try {
      const state = new FsFleetState(dir);
      const first = await state.ensureKeyPair();
      const second = await state.ensureKeyPair();
      expect(second).toEqual(first);
      const file = join(dir, 'fleet', 'device-key.pem');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8')).toContain('BEGIN PRIVATE KEY');
      expect(first.publicKeyPem).toContain('BEGIN PUBLIC KEY');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
