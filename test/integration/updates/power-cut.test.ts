import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsReleaseFiles } from '../../../device/adapters/release-files.fs.js';
import { FsUpdateState } from '../../../device/adapters/update-state.fs.js';
import { ReleaseInstaller } from '../../../device/services/release-installer.js';
import { CLI } from '../../helpers/cli.js';
import {
  makeKeys,
  makeRelease,
  writeOsRelease,
  type TestKeys,
  type TestRelease,
} from '../../helpers/releases.js';

/** Every point where `release install` persists a step, in order. */
const INSTALL_STEPS = [
  'begun',
  'downloaded',
  'verified',
  'unpacked-unrecorded',
  'unpacked',
  'trial-opened',
  'switched-unrecorded',
  'switched',
];

/**
 * A power cut between every pair of steps: the real CLI (built into dist/) is killed with
 * SIGKILL right after a step, then the box starts again (`release recover`, what a starting
 * daemon does). Each time the `current` link names a whole release that runs, and installing
 * again finishes the update.
 */
describe('an update cut off at any step', () => {
  let dir: string;
  let root: string;
  let stateDir: string;
  let keys: TestKeys;
  let osRelease: string;
  let next: TestRelease;

  const cli = (args: string[], dieAt?: string) =>
    spawnSync(process.execPath, [CLI, 'release', ...args], {
      env: {
        ...process.env,
        CLASSBOX_LOG_LEVEL: 'warn',
        ...(dieAt ? { CLASSBOX_UPDATE_DIE_AT: dieAt } : {}),
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
  const common = () => [
    '--root',
    root,
    '--state-dir',
    stateDir,
    '--keys',
    keys.keysDir,
    '--os-release',
    osRelease,
  ];
  const installArgs = () => [
    'install',
    ...common(),
    '--manifest',
    next.manifestFile,
    '--payload',
    next.payloadFile,
  ];

  /** The version the box would run now: `current`'s own bin, executed. */
  const running = (): string => {
    const link = readlinkSync(join(root, 'releases', 'current'));
    const out = spawnSync(process.execPath, [join(root, 'releases', 'current', 'bin', 'classbox.js')], {
      encoding: 'utf8',
    });
    expect(out.status).toBe(0);
    const version = out.stdout.trim();
    expect(version).toBe(link);
    expect(readFileSync(join(root, 'releases', 'current', 'dist', 'app.txt'), 'utf8')).toBe(
      `the application of ${version}\n`,
    );
    return version;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-power-cut-'));
    root = join(dir, 'opt');
    stateDir = join(dir, 'state');
    keys = makeKeys(dir);
    osRelease = writeOsRelease(dir);
    const installer = new ReleaseInstaller(
      new FsReleaseFiles({ root, trustedKeysDir: keys.keysDir, osReleaseFile: osRelease }),
      undefined,
      new FsUpdateState(stateDir),
      {
        healthTimeoutMs: 600_000,
        maxTrialStarts: 3,
        marginBytes: 0,
        now: Date.now,
        checkpoint: () => undefined,
      },
    );
    const base = await makeRelease(dir, '1.0.0', keys);
    const record = await installer.begin({
      version: '1.0.0',
      manifest: base.manifestText,
      signature: base.signature,
      source: { kind: 'file', path: base.payloadFile },
    });
    await installer.continue(record, undefined);
    const recovery = await installer.recover(true);
    if (recovery.kind !== 'trial') throw new Error('the base release did not open a trial');
    await installer.confirm(recovery.trial);
    next = await makeRelease(dir, '1.1.0', keys);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each(INSTALL_STEPS)('resumes after a kill at %s', (step) => {
    const killed = cli(installArgs(), step);
    expect(killed.signal).toBe('SIGKILL');

    const start = cli(['recover', ...common()]);
    expect(start.status, start.stderr).toBe(0);
    const after = running();
    // Before the switch the old version runs; from the switch on, the new one on trial.
    expect(after).toBe(
      INSTALL_STEPS.indexOf(step) >= INSTALL_STEPS.indexOf('switched-unrecorded') ? '1.1.0' : '1.0.0',
    );
    expect(readdirSync(join(root, 'releases')).filter((n) => n.startsWith('.'))).toEqual([]);

    const again = cli(installArgs());
    expect(again.status, again.stderr).toBe(0);
    expect(running()).toBe('1.1.0');
    expect(readFileSync(join(stateDir, 'update', 'trial.json'), 'utf8')).toContain('"previous": "1.0.0"');
  });

  it.each(['trial-counted', 'rolled-back-unrecorded'])(
    'ends a rollback cut off at %s on the old version, reported',
    (step) => {
      expect(cli(installArgs()).status).toBe(0);
      for (let i = 0; i < 3; i++) expect(cli(['recover', ...common()]).status).toBe(0);
      expect(running()).toBe('1.1.0');
      // The fourth start is one too many: the rollback is cut off part-way.
      expect(cli(['recover', ...common()], step).signal).toBe('SIGKILL');
      const start = cli(['recover', ...common()]);
      expect(start.status, start.stderr).toBe(0);
      expect(running()).toBe('1.0.0');
      const outcome = JSON.parse(readFileSync(join(stateDir, 'update', 'outcome.json'), 'utf8')) as {
        version: string;
        result: string;
      };
      expect(outcome).toMatchObject({ version: '1.1.0', result: 'rolled-back' });
      expect(existsSync(join(stateDir, 'update', 'trial.json'))).toBe(false);
      expect(existsSync(join(stateDir, 'update', 'update.json'))).toBe(false);
    },
  );
  it('leaves a version that cannot even start once its deadline passed (the ExecStartPre guard)', () => {
    expect(cli(installArgs()).status).toBe(0);
    const guard = () =>
      spawnSync(
        'bash',
        [
          join(process.cwd(), 'scripts', 'update-guard.sh'),
          '--root',
          root,
          '--state-dir',
          stateDir,
          '--node',
          process.execPath,
        ],
        { encoding: 'utf8' },
      );
    // Within the deadline: systemd may keep trying the new version.
    expect(guard().status).toBe(0);
    expect(running()).toBe('1.1.0');

    // Its daemon never ran to judge itself; the deadline passes.
    const trialFile = join(stateDir, 'update', 'trial.json');
    const trial = JSON.parse(readFileSync(trialFile, 'utf8')) as { deadline: number };
    writeFileSync(trialFile, JSON.stringify({ ...trial, deadline: Date.now() - 1000 }));
    const result = guard();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('rolled back 1.1.0 to 1.0.0');
    expect(running()).toBe('1.0.0');
    expect(JSON.parse(readFileSync(join(stateDir, 'update', 'outcome.json'), 'utf8'))).toMatchObject({
      version: '1.1.0',
      result: 'rolled-back',
      code: 'E-UPDATE-UNHEALTHY',
    });
    // The update history has it too, as its last line.
    const history = readFileSync(join(stateDir, 'update', 'history.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(JSON.parse(history.at(-1)!)).toMatchObject({ version: '1.1.0', result: 'rolled-back' });
    // The next daemon start finds one consistent version and no trial.
    const start = cli(['recover', ...common()]);
    expect(JSON.parse(start.stdout)).toEqual({ kind: 'steady', current: '1.0.0' });
  });
  it('says why `release install` refuses, with exit code 2, and leaves the running version', () => {
    const sig = JSON.parse(readFileSync(`${next.manifestFile}.sig`, 'utf8')) as { keyId: string };
    writeFileSync(`${next.manifestFile}.sig`, JSON.stringify({ ...sig, keyId: '0000000000000000' }));
    const refused = cli(installArgs());
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('signed with key 0000000000000000, which this box does not trust');
    expect(refused.stderr).toContain('code: E-UPDATE-KEY-UNKNOWN');
    expect(running()).toBe('1.0.0');
  });
});
