import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsReleaseFiles } from '../../../device/adapters/release-files.fs.js';
import { FsUpdateState } from '../../../device/adapters/update-state.fs.js';
import { UpdateError } from '../../../device/ports/update.port.js';
import { ReleaseInstaller } from '../../../device/services/release-installer.js';
import {
  makeKeys,
  makeRelease,
  writeOsRelease,
  type TestKeys,
  type TestRelease,
} from '../../helpers/releases.js';

/**
 * The installer on a real release tree in a temp folder, with real tar bundles and real
 * Ed25519 keys: every refusal leaves the running version as it was.
 */
describe('the release installer', () => {
  let dir: string;
  let root: string;
  let stateDir: string;
  let keys: TestKeys;
  let osRelease: string;
  let now: number;

  const installer = (opts: { marginBytes?: number; maxTrialStarts?: number } = {}) =>
    new ReleaseInstaller(
      new FsReleaseFiles({ root, trustedKeysDir: keys.keysDir, osReleaseFile: osRelease }),
      undefined,
      new FsUpdateState(stateDir),
      {
        healthTimeoutMs: 60_000,
        maxTrialStarts: opts.maxTrialStarts ?? 3,
        marginBytes: opts.marginBytes ?? 1024,
        now: () => now,
        checkpoint: () => undefined,
      },
    );

  const install = async (
    release: TestRelease,
    payload = release.payloadFile,
    signature: unknown = release.signature,
    manifest = release.manifestText,
  ) => {
    const sut = installer();
    await sut.recover(false);
    const record = await sut.begin({
      version: release.version,
      manifest,
      signature,
      source: { kind: 'file', path: payload },
    });
    return sut.continue(record, undefined);
  };

  const current = () => readlinkSync(join(root, 'releases', 'current'));
  const runningApp = () => readFileSync(join(root, 'releases', 'current', 'bin', 'classbox.js'), 'utf8');
  const refusal = async (work: Promise<unknown>) => {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UpdateError);
    return error as UpdateError;
  };

  /** 1.0.0 installed and healthy: the version every refusal must leave running. */
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-installer-'));
    root = join(dir, 'opt');
    stateDir = join(dir, 'state');
    keys = makeKeys(dir);
    osRelease = writeOsRelease(dir);
    now = Date.parse('2026-11-30T02:00:00Z');
    const base = await makeRelease(dir, '1.0.0', keys);
    expect(await install(base)).toBe('switched');
    const recovery = await installer().recover(true);
    expect(recovery.kind).toBe('trial');
    if (recovery.kind === 'trial') await installer().confirm(recovery.trial);
    expect(current()).toBe('1.0.0');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const untouched = async (version: string) => {
    expect(current()).toBe('1.0.0');
    expect(runningApp()).toContain('"1.0.0"');
    expect(existsSync(join(root, 'releases', version))).toBe(false);
    expect(await new FsUpdateState(stateDir).readRecord()).toBeUndefined();
    expect(await new FsUpdateState(stateDir).readTrial()).toBeUndefined();
  };

  it('installs a signed release next to the running one and opens a trial', async () => {
    const next = await makeRelease(dir, '1.1.0', keys);
    expect(await install(next)).toBe('switched');
    expect(current()).toBe('1.1.0');
    expect(runningApp()).toContain('"1.1.0"');
    expect(readFileSync(join(root, 'releases', '1.0.0', 'bin', 'classbox.js'), 'utf8')).toContain('"1.0.0"');
    expect(await new FsUpdateState(stateDir).readTrial()).toMatchObject({
      version: '1.1.0',
      previous: '1.0.0',
      starts: 0,
    });
    expect(existsSync(join(root, 'downloads', '1.1.0.tar.gz'))).toBe(false);
  });

  it('refuses a tampered payload before unpacking it', async () => {
    const next = await makeRelease(dir, '1.1.0', keys);
    const tampered = join(dir, 'tampered.tar.gz');
    const bytes = readFileSync(next.payloadFile);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(tampered, bytes);
    const error = await refusal(install(next, tampered));
    expect(error.code).toBe('E-UPDATE-HASH');
    expect(error.message).toMatch(/does not match its manifest's SHA-256/);
    await untouched('1.1.0');
    expect(existsSync(join(root, 'downloads', '1.1.0.tar.gz'))).toBe(false);
  });

  it('refuses a manifest changed after signing', async () => {
    const next = await makeRelease(dir, '1.1.0', keys);
    const changed = next.manifestText.replace('"minOsVersion": "11"', '"minOsVersion": "10"');
    expect(changed).not.toBe(next.manifestText);
    const error = await refusal(install(next, next.payloadFile, next.signature, changed));
    expect(error.code).toBe('E-UPDATE-SIGNATURE');
    await untouched('1.1.0');
  });

  it('refuses a release signed with a key the box does not trust', async () => {
    const stranger = makeKeys(dir, 'stranger');
    const next = await makeRelease(dir, '1.1.0', stranger);
    const error = await refusal(install(next));
    expect(error.code).toBe('E-UPDATE-KEY-UNKNOWN');
    expect(error.message).toContain(next.signature.keyId);
    await untouched('1.1.0');
  });

  it('refuses another architecture and another Node ABI, naming both sides', async () => {
    const otherArch = process.arch === 'arm64' ? 'x64' : 'arm64';
    const wrongArch = await makeRelease(dir, '1.1.0', keys, { arch: otherArch });
    const archError = await refusal(install(wrongArch));
    expect(archError.code).toBe('E-UPDATE-ARCH');
    expect(archError.message).toContain(`built for ${otherArch}, this box is ${process.arch}`);
    await untouched('1.1.0');

    const wrongAbi = await makeRelease(dir, '1.2.0', keys, { nodeAbi: 1 });
    const abiError = await refusal(install(wrongAbi));
    expect(abiError.code).toBe('E-UPDATE-NODE-ABI');
    await untouched('1.2.0');
  });

  it('refuses when the disk lacks the space for download and unpacking', async () => {
    const next = await makeRelease(dir, '1.1.0', keys);
    const sut = installer({ marginBytes: Number.MAX_SAFE_INTEGER / 2 });
    const error = await refusal(
      sut.begin({
        version: '1.1.0',
        manifest: next.manifestText,
        signature: next.signature,
        source: { kind: 'file', path: next.payloadFile },
      }),
    );
    expect(error.code).toBe('E-UPDATE-SPACE');
    expect(error.message).toMatch(/MB needed, .* MB free/);
    await untouched('1.1.0');
  });

  it('rolls back a version that keeps failing to start, and remembers why', async () => {
    const next = await makeRelease(dir, '1.1.0', keys);
    await install(next);
    for (let start = 1; start <= 3; start++) expect((await installer().recover(true)).kind).toBe('trial');
    const verdict = await installer().recover(true);
    expect(verdict).toMatchObject({ kind: 'rolled-back', to: '1.0.0', code: 'E-UPDATE-CRASH-LOOP' });
    expect(current()).toBe('1.0.0');
    expect(await new FsUpdateState(stateDir).readOutcome()).toMatchObject({
      version: '1.1.0',
      result: 'rolled-back',
    });
    expect(await new FsUpdateState(stateDir).readTrial()).toBeUndefined();
  });

  it('rolls back a version not healthy by its deadline', async () => {
    const next = await makeRelease(dir, '1.1.0', keys);
    await install(next);
    now += 61_000;
    expect(await installer().recover(true)).toMatchObject({
      kind: 'rolled-back',
      code: 'E-UPDATE-UNHEALTHY',
    });
    expect(current()).toBe('1.0.0');
  });

  it('keeps the running and the previous release once a third is healthy', async () => {
    for (const version of ['1.1.0', '1.2.0']) {
      await install(await makeRelease(dir, version, keys));
      const recovery = await installer().recover(true);
      if (recovery.kind !== 'trial') throw new Error(`expected a trial, got ${recovery.kind}`);
      await installer().confirm(recovery.trial);
    }
    expect(current()).toBe('1.2.0');
    expect(existsSync(join(root, 'releases', '1.1.0'))).toBe(true);
    expect(existsSync(join(root, 'releases', '1.0.0'))).toBe(false);
    expect(await new FsUpdateState(stateDir).readOutcome()).toMatchObject({
      version: '1.2.0',
      result: 'installed',
    });
  });
  it('points a lost current link back at the version before the trial', async () => {
    await install(await makeRelease(dir, '1.1.0', keys));
    rmSync(join(root, 'releases', 'current'));
    rmSync(join(root, 'releases', '1.1.0'), { recursive: true });
    expect(await installer().recover(true)).toEqual({ kind: 'steady', current: '1.0.0' });
    expect(current()).toBe('1.0.0');
    expect(await new FsUpdateState(stateDir).readTrial()).toBeUndefined();
  });
});
