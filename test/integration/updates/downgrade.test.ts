import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signManifest, type ReleaseManifest } from '../../../common/release-manifest.js';
import { runCli } from '../../helpers/cli.js';
import {
  makeKeys,
  makeRelease,
  writeOsRelease,
  type TestKeys,
  type TestRelease,
} from '../../helpers/releases.js';

/**
 * Issue 13 on the box, through the real `classbox release install`: a correctly signed older
 * release must not install over a newer one (a rollback attack) unless its signed manifest
 * allows it, and a payload that fails to unpack is refused with E-UPDATE-UNPACK, leaving nothing.
 */
describe('classbox release install: downgrades and failed unpacks', () => {
  let dir: string;
  let root: string;
  let stateDir: string;
  let keys: TestKeys;
  let osRelease: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-downgrade-'));
    root = join(dir, 'opt');
    stateDir = join(dir, 'state');
    keys = makeKeys(dir);
    osRelease = writeOsRelease(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const install = (release: { manifestFile: string; payloadFile: string }) =>
    runCli([
      'release',
      'install',
      '--root',
      root,
      '--state-dir',
      stateDir,
      '--keys',
      keys.keysDir,
      '--os-release',
      osRelease,
      '--manifest',
      release.manifestFile,
      '--payload',
      release.payloadFile,
    ]);
  const current = () => readlinkSync(join(root, 'releases', 'current'));

  it('refuses a signed older release, takes a signed rollback, and keeps the floor after it', async () => {
    const v2 = await makeRelease(dir, '2.0.0', keys);
    expect((await install(v2)).code).toBe(0);
    expect(current()).toBe('2.0.0');

    // The attack: a correctly signed, older (say, vulnerable) release.
    const v1 = await makeRelease(dir, '1.0.0', keys);
    const refused = await install(v1);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('code: E-UPDATE-DOWNGRADE');
    expect(refused.stderr).toMatch(/older than 2\.0\.0.*allowRollback/);
    expect(current()).toBe('2.0.0');
    expect(readdirSync(join(root, 'releases')).sort()).toEqual(['2.0.0', 'current']);

    // IT's deliberate rollback: the same version, its manifest signed with allowRollback.
    const rollback = await makeRelease(dir, '1.0.0', keys, { allowRollback: true });
    expect(JSON.parse(rollback.manifestText)).toMatchObject({ allowRollback: true });
    expect((await install(rollback)).code).toBe(0);
    expect(current()).toBe('1.0.0');

    // The floor stays at the highest version ever run, durably (floor.json), not at current.
    expect(JSON.parse(readFileSync(join(stateDir, 'update', 'floor.json'), 'utf8'))).toEqual({
      highest: '2.0.0',
    });
    const v15 = await makeRelease(dir, '1.5.0', keys);
    const stillRefused = await install(v15);
    expect(stillRefused.stderr).toContain('code: E-UPDATE-DOWNGRADE');
    expect(current()).toBe('1.0.0');
    const v21 = await makeRelease(dir, '2.1.0', keys);
    expect((await install(v21)).code).toBe(0);
    expect(current()).toBe('2.1.0');
  });

  it('orders pre-releases by semver: pilot.9 is older than pilot.10', async () => {
    expect((await install(await makeRelease(dir, '1.0.0-pilot.10', keys))).code).toBe(0);
    const older = await install(await makeRelease(dir, '1.0.0-pilot.9', keys));
    expect(older.stderr).toContain('code: E-UPDATE-DOWNGRADE');
    expect(current()).toBe('1.0.0-pilot.10');
  });

  it('refuses a version that is not semver at build time', async () => {
    const res = await runCli(['release', 'build', '--out', join(dir, 'out'), '--release', '1.0.0-rc..1']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/semantic version/);
  });

  /**
   * A signed release whose payload holds many files and, midway, an entry that tar refuses
   * (a path climbing out with `..`): tar is still writing the others when it reports it.
   */
  async function badPayloadRelease(): Promise<{ manifestFile: string; payloadFile: string }> {
    const stage = join(dir, 'bad-stage');
    const files: string[] = [];
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(stage, 'dist', `d${d}`), { recursive: true });
      for (let f = 0; f < 40; f++) {
        const name = join('dist', `d${d}`, `f${f}.bin`);
        writeFileSync(join(stage, name), Buffer.alloc(8192, d + f));
        files.push(name);
      }
    }
    writeFileSync(join(dir, 'escape.txt'), 'outside\n');
    const payloadFile = join(dir, 'bad.tar.gz');
    const half = files.length / 2;
    // GNU tar with -P keeps the `..` member name as given.
    execFileSync('tar', [
      '-czPf',
      payloadFile,
      '-C',
      stage,
      ...files.slice(0, half),
      '../escape.txt',
      ...files.slice(half),
    ]);
    const bytes = readFileSync(payloadFile);
    const manifest: ReleaseManifest = {
      format: 1,
      name: 'classbox',
      version: '3.0.0',
      arch: process.arch as ReleaseManifest['arch'],
      nodeAbi: Number(process.versions.modules),
      minOsVersion: '11',
      payload: {
        file: 'bad.tar.gz',
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: statSync(payloadFile).size,
        unpackedSize: files.length * 8192,
      },
      builtAt: new Date().toISOString(),
    };
    const manifestFile = join(dir, 'bad.manifest.json');
    const text = JSON.stringify(manifest);
    writeFileSync(manifestFile, text);
    writeFileSync(`${manifestFile}.sig`, JSON.stringify(signManifest(text, keys.privateKeyPem)));
    return { manifestFile, payloadFile };
  }

  it('refuses a payload tar refuses with E-UPDATE-UNPACK and leaves no .unpack-* folder', async () => {
    const base: TestRelease = await makeRelease(dir, '2.0.0', keys);
    expect((await install(base)).code).toBe(0);
    const bad = await badPayloadRelease();
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await install(bad);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('code: E-UPDATE-UNPACK');
      expect(res.stderr).not.toMatch(/ENOTEMPTY/);
      expect(readdirSync(join(root, 'releases')).sort()).toEqual(['2.0.0', 'current']);
      expect(current()).toBe('2.0.0');
    }
  });
});
