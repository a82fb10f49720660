import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../cli/classbox.js';
import { loadDeviceConfig } from '../../../device/config/device-config.loader.js';
import { HttpReleaseDownload } from '../../../device/adapters/release-download.http.js';
import { FsReleaseFiles } from '../../../device/adapters/release-files.fs.js';
import { FsUpdateState } from '../../../device/adapters/update-state.fs.js';
import { startDaemon, type RunningDaemon } from '../../../device/daemon.js';
import type { FleetSession } from '../../../device/ports/fleet.port.js';
import { JanusPort } from '../../../device/ports/janus.port.js';
import { ReleaseDownloadPort, RestartPort, syncedMarkOf } from '../../../device/ports/update.port.js';
import { FleetEnrolmentService } from '../../../device/services/fleet-enrolment.service.js';
import { FleetSyncService } from '../../../device/services/fleet-sync.service.js';
import { ReleaseInstaller } from '../../../device/services/release-installer.js';
import { UpdaterService } from '../../../device/services/updater.service.js';
import { startFleetServer, type RunningFleetServer } from '../../../provisioning/fleet-server.js';
import { freePort } from '../../helpers/ports.js';
import { makeKeys, makeRelease } from '../../helpers/releases.js';
import { FakeJanus } from '../../helpers/fake-janus.js';
import { connectFakePage, type FakeKioskPage } from '../../helpers/fake-kiosk-page.js';
import { eventually, writeFleetBoxConfig } from '../../helpers/sim-box.js';
import { generateAdminToken } from '../../../provisioning/services/admin-auth.service.js';

const ADMIN = generateAdminToken();
let trustedReleaseKeys: string[] = [];

/** Stands in for systemd: records that the daemon asked to be restarted. */
class RecordingRestart extends RestartPort {
  readonly reasons: string[] = [];
  restart(why: string): Promise<void> {
    this.reasons.push(why);
    return Promise.resolve();
  }
}

/**
 * The real HTTP download, noting how many bytes it could resume from when each one began: those on
 * disk and counted as synced beside the file (what survives a power cut).
 */
class RecordingDownload extends HttpReleaseDownload {
  readonly startedAt: number[] = [];
  override download(
    session: FleetSession,
    path: string,
    file: string,
    size: number,
    progress: (n: number) => void,
  ) {
    let have: number;
    try {
      have = Math.min(statSync(file).size, Number(readFileSync(syncedMarkOf(file), 'utf8')));
    } catch {
      have = 0;
    }
    this.startedAt.push(have);
    return super.download(session, path, file, size, progress);
  }
}

/**
 * End to end in `sim` mode: IT builds, signs, uploads and rolls out a release with the CLI;
 * the box waits for its class to end, resumes a cut-off download, installs, restarts and is
 * confirmed healthy; a release that can't report a healthy heartbeat in time is rolled back
 * and the fleet is told.
 */
describe('a release from the CLI to a box', () => {
  let dir: string;
  let dbFile: string;
  let port: number;
  let server: RunningFleetServer | undefined;
  let daemon: RunningDaemon | undefined;
  let page: FakeKioskPage | undefined;
  let configFile: string;
  let root: string;
  let restart: RecordingRestart;
  let download: RecordingDownload;
  const deviceId = 'jx-ruijin-01';
  /** IT's signing key folder (release keygen). */
  let itKeys: string;

  const cli = async (...args: string[]) => {
    const code = await main(args);
    process.exitCode = undefined;
    return code;
  };
  const admin = async (path: string) =>
    (await (
      await fetch(`${server!.url}/api/v1/admin${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })
    ).json()) as Record<string, unknown>;
  const status = async () => (await (await fetch(`${daemon!.url}/api/status`)).json()) as { state: string };
  const fleet = () => daemon!.app.get(FleetSyncService);
  const enrolment = () => daemon!.app.get(FleetEnrolmentService);
  const updater = () => daemon!.app.get(UpdaterService);

  const boot = async () => {
    restart = new RecordingRestart();
    download = new RecordingDownload();
    daemon = await startDaemon(await loadDeviceConfig(configFile), [
      { provide: JanusPort, useValue: new FakeJanus() },
      { provide: RestartPort, useValue: restart },
      { provide: ReleaseDownloadPort, useValue: download },
    ]);
    page = await connectFakePage(daemon.url);
  };
  const shutdown = async () => {
    page?.close();
    await daemon?.stop();
    daemon = undefined;
  };

  /** Build with the CLI from a staged app, sign with a key from keygen, upload; returns the manifest path. */
  const publish = async (version: string, keyDir: string) => {
    const stage = join(dir, `app-${version}`);
    mkdirSync(join(stage, 'bin'), { recursive: true });
    mkdirSync(join(stage, 'dist'), { recursive: true });
    writeFileSync(join(stage, 'package.json'), JSON.stringify({ name: 'classbox', version }));
    writeFileSync(join(stage, 'bin', 'classbox.js'), `console.log(${JSON.stringify(version)});\n`);
    writeFileSync(
      join(stage, 'dist', 'bulk.bin'),
      Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251)),
    );
    const out = join(dir, 'out');
    expect(await cli('release', 'build', '--staged', stage, '--out', out, '--min-os', '11')).toBe(0);
    const manifest = join(out, `classbox-${version}-${process.arch}.manifest.json`);
    expect(
      await cli('release', 'sign', '--key', join(keyDir, 'release.key.pem'), '--manifest', manifest),
    ).toBe(0);
    const payload = join(out, `classbox-${version}-${process.arch}.tar.gz`);
    expect(
      await cli(
        'release',
        'upload',
        '--fleet',
        server!.url,
        '--token',
        ADMIN,
        '--manifest',
        manifest,
        '--payload',
        payload,
      ),
    ).toBe(0);
    return { manifest, payload };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-update-e2e-'));
    dbFile = join(dir, 'fleet.db');
    root = join(dir, 'opt');
    port = await freePort();
    server = await startFleetServer({ db: dbFile, port, host: '127.0.0.1', firstAdminToken: ADMIN });
    expect(
      await cli(
        'fleet',
        'centre',
        'create',
        '--db',
        dbFile,
        '--id',
        'jx-ruijin',
        '--name',
        '瑞金教学点',
        '--region',
        '江西',
        '--janus-url',
        'ws://janus.example.cn:8188',
        '--room',
        '1234',
      ),
    ).toBe(0);
    expect(
      await cli(
        'fleet',
        'token',
        'create',
        '--db',
        dbFile,
        '--centre',
        'jx-ruijin',
        '--expires',
        '7d',
        '--fleet-url',
        server.url,
        '--out',
        join(dir, 'seeds'),
      ),
    ).toBe(0);

    // IT's key: the private half stays with IT, the public half ships in the box image.
    const keyDir = join(dir, 'it-keys');
    expect(await cli('release', 'keygen', '--out', keyDir)).toBe(0);
    const boxKeys = join(dir, 'box-keys');
    mkdirSync(boxKeys);
    copyFileSync(join(keyDir, 'release.pub.pem'), join(boxKeys, 'release.pub.pem'));
    // The fleet server registers only releases signed with a key the boxes trust: it gets the public half too.
    trustedReleaseKeys = [readFileSync(join(keyDir, 'release.pub.pem'), 'utf8')];
    await server.stop();
    server = await startFleetServer({ db: dbFile, port, host: '127.0.0.1', trustedReleaseKeys });

    // The box as flashed: release 1.0.0 installed and confirmed.
    const factory = makeKeys(dir, 'factory');
    copyFileSync(join(factory.keysDir, 'factory.pub.pem'), join(boxKeys, 'factory.pub.pem'));
    const base = await makeRelease(dir, '1.0.0', factory);
    const installer = new ReleaseInstaller(
      new FsReleaseFiles({ root, trustedKeysDir: boxKeys }),
      undefined,
      new FsUpdateState(join(dir, 'state')),
      {
        healthTimeoutMs: 60_000,
        maxTrialStarts: 3,
        marginBytes: 0,
        now: Date.now,
        checkpoint: () => undefined,
      },
    );
    await installer.continue(
      await installer.begin({
        version: '1.0.0',
        manifest: base.manifestText,
        signature: base.signature,
        source: { kind: 'file', path: base.payloadFile },
      }),
      undefined,
    );
    const trial = await installer.recover(true);
    if (trial.kind !== 'trial') throw new Error('the factory release did not open a trial');
    await installer.confirm(trial.trial);

    configFile = await writeFleetBoxConfig(
      dir,
      server.url,
      join(dir, 'seeds', 'jx-ruijin-01', 'classbox-enrol.json'),
    );
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    config.update = {
      root,
      trustedKeysDir: boxKeys,
      healthTimeoutSec: 10,
      freeMarginMB: 0,
      classGuardMinutes: 0,
    };
    writeFileSync(configFile, JSON.stringify(config));
    itKeys = keyDir;
  });

  afterEach(() => {
    process.exitCode = undefined;
  });

  afterAll(async () => {
    await shutdown();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits for the class to end, resumes a cut-off download, installs and is confirmed healthy', async () => {
    const keyDir = itKeys;
    const { payload } = await publish('1.1.0', keyDir);
    await boot();
    await eventually('the box enrols', () => enrolment().isEnrolled());

    await fetch(`${daemon!.url}/api/buttons/class/press`, { method: 'POST' });
    await eventually('the class is live', async () => (await status()).state === 'live');
    expect(
      await cli(
        'release',
        'rollout',
        '--fleet',
        server!.url,
        '--token',
        ADMIN,
        '--release',
        '1.1.0',
        '--device',
        deviceId,
      ),
    ).toBe(0);

    // A download cut off earlier (a power cut): a third of the payload is on disk and counted as
    // synced; past it, to the full length, a tail that never reached the card (zeros), as the VM showed.
    const bytes = readFileSync(payload);
    mkdirSync(join(root, 'downloads'), { recursive: true });
    const third = Math.floor(bytes.length / 3);
    const partial = join(root, 'downloads', '1.1.0.tar.gz');
    writeFileSync(partial, Buffer.concat([bytes.subarray(0, third), Buffer.alloc(bytes.length - third)]));
    writeFileSync(syncedMarkOf(partial), String(third));

    await fleet().tick();
    await fleet().tick();
    expect(updater().status()).toMatchObject({
      state: 'waiting',
      version: '1.1.0',
      detail: 'a class is live',
    });
    expect((await admin(`/devices/${deviceId}/update`)).report).toMatchObject({
      state: 'waiting',
      version: '1.1.0',
    });
    expect(readlinkSync(join(root, 'releases', 'current'))).toBe('1.0.0');
    expect(restart.reasons).toEqual([]);

    await fetch(`${daemon!.url}/api/buttons/class/press`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ holdMs: 700 }),
    });
    await eventually('the class ends', async () => (await status()).state === 'idle');
    await eventually('the box asks to restart', () => restart.reasons.length === 1, 400);
    expect(download.startedAt[0]).toBe(Math.floor(bytes.length / 3));
    expect(readlinkSync(join(root, 'releases', 'current'))).toBe('1.1.0');
    expect(readFileSync(join(root, 'releases', 'current', 'bin', 'classbox.js'), 'utf8')).toContain(
      '"1.1.0"',
    );

    // systemd restarts the daemon; the new start is on trial until healthy and heard by the fleet.
    await shutdown();
    await boot();
    expect(updater().status()).toMatchObject({ state: 'trial', version: '1.1.0' });
    await fleet().tick();
    await eventually('the trial is confirmed', () => updater().status()?.state === 'installed', 200);
    await fleet().tick();
    expect(await admin(`/devices/${deviceId}/update`)).toMatchObject({
      targetVersion: '1.1.0',
      report: { state: 'installed', version: '1.1.0' },
    });
    expect(readlinkSync(join(root, 'releases', 'current'))).toBe('1.1.0');
  });

  it('rolls back a release that never reports a healthy heartbeat, and tells the fleet', async () => {
    const keyDir = itKeys;
    await publish('1.2.0', keyDir);
    expect(
      await cli(
        'release',
        'rollout',
        '--fleet',
        server!.url,
        '--token',
        ADMIN,
        '--release',
        '1.2.0',
        '--device',
        deviceId,
      ),
    ).toBe(0);
    await fleet().tick();
    await eventually('the box asks to restart', () => restart.reasons.length === 1, 400);
    expect(readlinkSync(join(root, 'releases', 'current'))).toBe('1.2.0');

    // The new start can't reach the fleet: it never reports a healthy heartbeat.
    await shutdown();
    await server!.stop();
    await boot();
    expect(updater().status()).toMatchObject({ state: 'trial', version: '1.2.0' });
    await eventually('the trial times out', () => restart.reasons.length === 1, 400);
    expect(restart.reasons[0]).toBe('rolled back to 1.1.0');
    expect(readlinkSync(join(root, 'releases', 'current'))).toBe('1.1.0');

    server = await startFleetServer({ db: dbFile, port, host: '127.0.0.1', trustedReleaseKeys });
    await fleet().tick();
    expect((await admin(`/devices/${deviceId}/update`)).report).toMatchObject({
      state: 'rolled-back',
      version: '1.2.0',
      code: 'E-UPDATE-UNHEALTHY',
    });
  }, 60_000);
});
