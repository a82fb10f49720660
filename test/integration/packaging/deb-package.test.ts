import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceConfigSchema } from '../../../device/config/device-config.schema.js';
import { productionDependencies } from '../../../provisioning/adapters/release-bundle.fs.js';
import { REPO, run } from './packaging-helpers.js';

const hasDpkg = run('sh', ['-c', 'command -v dpkg-deb && command -v dpkg']).status === 0;
const hasSystemdAnalyze = run('sh', ['-c', 'command -v systemd-analyze']).status === 0;
if (!hasDpkg)
  console.warn('Skipping the Debian package tests: dpkg-deb is not installed (apt-get install dpkg-dev)');

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const UNITS = ['classbox.service', 'classbox-kiosk-session.service', 'classbox-seed-import.service'];

let dir: string;
let deb: string;
let arch: string;
/** A throwaway root the package is installed into, with dpkg's scripts run outside a chroot. */
let root: string;

function dpkgInRoot(...args: string[]) {
  return run('dpkg', [
    `--root=${root}`,
    '--force-script-chrootless',
    '--force-depends',
    `--log=${join(root, 'var/log/dpkg.log')}`,
    ...args,
  ]);
}

describe.skipIf(!hasDpkg)('the classbox Debian package', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-deb-test-'));
    arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
    const args = ['--out', join(dir, 'out'), '--work', join(dir, 'work')];
    execFileSync(join(REPO, 'images', 'build-deb.sh'), args, { stdio: ['ignore', 'inherit', 'inherit'] });
    deb = join(dir, 'out', `classbox_${VERSION}_${arch}.deb`);

    root = join(dir, 'root');
    mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
    mkdirSync(join(root, 'var/lib/dpkg/updates'), { recursive: true });
    mkdirSync(join(root, 'var/log'), { recursive: true });
    writeFileSync(join(root, 'var/lib/dpkg/status'), '');
    // A stock Raspberry Pi OS boot partition: postinst adds the buttons' pull-ups to it.
    mkdirSync(join(root, 'boot/firmware'), { recursive: true });
    writeFileSync(join(root, 'boot/firmware/config.txt'), '# stock\n[pi5]\ndtparam=fan_temp0=45000\n');
  }, 600_000);

  // The work dir holds three copies of the release's node_modules (staging, root, verify root): deleting
  // them took over a minute on the loaded two-core machine.
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it('is named and described as Debian expects', () => {
    expect(existsSync(deb)).toBe(true);
    const info = execFileSync('dpkg-deb', ['--info', deb], { encoding: 'utf8' });
    expect(info).toMatch(/^ Package: classbox$/m);
    expect(info).toMatch(new RegExp(`^ Version: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
    expect(info).toMatch(new RegExp(`^ Architecture: ${arch}$`, 'm'));
    expect(info).toMatch(/^ Depends: .*systemd.*chromium.*labwc/m);
    expect(info).toMatch(/^ Installed-Size: \d+$/m);
    const control = join(dir, 'control');
    execFileSync('dpkg-deb', ['--control', deb, control]);
    expect(readFileSync(join(control, 'conffiles'), 'utf8')).toBe('/etc/classbox/device.json\n');
    for (const script of ['postinst', 'prerm', 'postrm']) {
      expect(statSync(join(control, script)).mode & 0o777).toBe(0o755);
      expect(run('shellcheck', [join(control, script)]).stdout).toBe('');
    }
    expect(readFileSync(join(control, 'postinst'), 'utf8')).toContain(`version="${VERSION}"`);
  });

  it('holds the release, its runtime, the units and the config, and no development packages', async () => {
    const listing = execFileSync('dpkg-deb', ['--contents', deb], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const entries = new Map(
      listing
        .trim()
        .split('\n')
        .map((line) => {
          const [mode, owner, , , , ...rest] = line.split(/\s+/);
          return [
            rest
              .join(' ')
              .replace(/^\.\//, '/')
              .replace(/ -> .*$/, ''),
            { mode: mode!, owner: owner! },
          ] as const;
        }),
    );
    const release = `/opt/classbox/releases/${VERSION}`;
    const expected: [string, string][] = [
      ['/opt/classbox/node/bin/node', '-rwxr-xr-x'],
      [`${release}/bin/classbox.js`, '-rwxr-xr-x'],
      [`${release}/dist/cli/classbox.js`, '-rw-r--r--'],
      [`${release}/dist/bundle/classbox.js`, '-rw-r--r--'],
      [`${release}/dist/device/daemon.js`, '-rw-r--r--'],
      [`${release}/dist/kiosk-page/index.html`, '-rw-r--r--'],
      [`${release}/docs/first-boot.md`, '-rw-r--r--'],
      [`${release}/package.json`, '-rw-r--r--'],
      [`${release}/node_modules/@nestjs/core/package.json`, '-rw-r--r--'],
      [`${release}/node_modules/better-sqlite3/build/Release/better_sqlite3.node`, '-rwxr-xr-x'],
      [`${release}/node_modules/unix-dgram/build/Release/unix_dgram.node`, '-rwxr-xr-x'],
      [`${release}/node_modules/epoll/build/Release/epoll.node`, '-rwxr-xr-x'],
      ['/etc/classbox/device.json', '-rw-r--r--'],
      ['/usr/bin/classbox', '-rwxr-xr-x'],
      ['/usr/lib/systemd/system/classbox.service', '-rw-r--r--'],
      ['/usr/lib/systemd/system/classbox-kiosk-session.service', '-rw-r--r--'],
      ['/usr/lib/systemd/system/classbox-seed-import.service', '-rw-r--r--'],
      ['/usr/lib/classbox/kiosk-session', '-rwxr-xr-x'],
      ['/usr/lib/classbox/import-enrolment-seed', '-rwxr-xr-x'],
      ['/usr/lib/sysusers.d/classbox.conf', '-rw-r--r--'],
      ['/usr/lib/tmpfiles.d/classbox.conf', '-rw-r--r--'],
      ['/usr/share/classbox/labwc/rc.xml', '-rw-r--r--'],
      ['/usr/share/icons/classbox-blank/index.theme', '-rw-r--r--'],
      ['/usr/share/icons/classbox-blank/cursors/default', '-rw-r--r--'],
      ['/usr/share/doc/classbox/copyright', '-rw-r--r--'],
      ['/usr/share/polkit-1/rules.d/50-classbox-reboot.rules', '-rw-r--r--'],
      ['/usr/lib/udev/rules.d/60-classbox.rules', '-rw-r--r--'],
      ['/usr/lib/classbox/boot-config', '-rwxr-xr-x'],
    ];
    for (const [path, mode] of expected) {
      expect(entries.get(path), path).toEqual({ mode, owner: 'root/root' });
    }
    const paths = [...entries.keys()];
    for (const dev of [
      'typescript',
      'vitest',
      'eslint',
      '@swc/core',
      'prettier',
      'vite',
      '@types/better-sqlite3',
    ]) {
      expect(
        paths.filter((p) => p.startsWith(`${release}/node_modules/${dev}/`)),
        dev,
      ).toEqual([]);
    }
    // The same packages as an OTA bundle built from this checkout (`release build`): one way to collect them.
    const packageFolder = /^node_modules\/(@[^/]+\/)?[^/@.][^/]*(\/node_modules\/(@[^/]+\/)?[^/@.][^/]*)*$/;
    const inDeb = paths
      .filter((p) => p.startsWith(`${release}/node_modules/`) && p.endsWith('/package.json'))
      .map((p) => p.slice(release.length + 1, -'/package.json'.length))
      .filter((dir) => packageFolder.test(dir))
      .sort()
      .filter((dir, _, all) => !all.some((o) => o !== dir && dir.startsWith(`${o}/`)));
    expect(inDeb).toEqual(await productionDependencies(REPO));
    // Made by postinst, so the updater can own it afterwards; no source maps or test sources either.
    expect(paths.filter((p) => p.startsWith('/opt/classbox/releases/current'))).toEqual([]);
    expect(
      paths.filter((p) => p.startsWith(`${release}/dist/`) && (p.endsWith('.map') || p.includes('.test.'))),
    ).toEqual([]);
    expect([...entries.values()].filter((e) => e.owner !== 'root/root')).toEqual([]);
  });

  it('installs into a throwaway root: user, groups, directories, current release, enabled units', () => {
    const install = dpkgInRoot('--install', deb);
    expect(install.stderr).not.toMatch(/error|warning: (?!.*dependency)/i);
    expect(install.status).toBe(0);

    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    const user = /^classbox:x:(\d+):(\d+):[^:]*:\/var\/lib\/classbox:\/usr\/sbin\/nologin$/m.exec(passwd);
    expect(user, passwd).not.toBeNull();
    const [uid, gid] = [Number(user![1]), Number(user![2])];
    const group = readFileSync(join(root, 'etc/group'), 'utf8');
    for (const name of ['video', 'audio', 'gpio', 'render', 'input']) {
      expect(group).toMatch(new RegExp(`^${name}:x:\\d+:(.*,)?classbox(,.*)?$`, 'm'));
    }

    const state = statSync(join(root, 'var/lib/classbox'));
    expect([state.uid, state.gid, state.mode & 0o777]).toEqual([uid, gid, 0o750]);
    const enrolment = statSync(join(root, 'var/lib/classbox/enrolment'));
    expect([enrolment.uid, enrolment.mode & 0o777]).toEqual([uid, 0o750]);
    const config = statSync(join(root, 'etc/classbox/device.json'));
    expect([config.uid, config.gid, config.mode & 0o777]).toEqual([0, gid, 0o640]);

    expect(readlinkSync(join(root, 'opt/classbox/releases/current'))).toBe(VERSION);
    for (const unit of ['classbox.service', 'classbox-seed-import.service']) {
      expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants', unit))).toBe(
        `/usr/lib/systemd/system/${unit}`,
      );
    }
    expect(
      lstatSync(
        join(root, 'etc/systemd/system/graphical.target.wants/classbox-kiosk-session.service'),
      ).isSymbolicLink(),
    ).toBe(true);
  });

  it("adds the buttons' pull-ups and the LEDs' level to config.txt once, under [all]", () => {
    const boot = readFileSync(join(root, 'boot/firmware/config.txt'), 'utf8');
    expect(boot.startsWith('# stock\n[pi5]\ndtparam=fan_temp0=45000\n')).toBe(true);
    expect(boot).toContain(
      '\n# classbox gpio begin (written by /usr/lib/classbox/boot-config)\n[all]\n' +
        '# buttons to GND: inputs with pull-ups (pressed = low)\ngpio=17,27=ip,pu\n' +
        '# LEDs: outputs, driven low (dark) until the daemon runs\ngpio=22,23=op,dl\n# classbox gpio end\n',
    );
  });

  it('installs udev rules that give the daemon GPIO, the DMA heaps and input devices, and are well-formed', () => {
    const text = readFileSync(join(root, 'usr/lib/udev/rules.d/60-classbox.rules'), 'utf8');
    const rules = parseUdevRules(text);
    expect(rules.problems).toEqual([]);
    const has = (match: Record<string, string>, assign: Record<string, string>) =>
      rules.rules.some(
        (r) =>
          Object.entries(match).every(([k, v]) => r.match[k] === v) &&
          Object.entries(assign).every(([k, v]) => r.assign[k] === v),
      );
    expect(has({ SUBSYSTEM: 'gpio', KERNEL: 'gpiochip[0-9]*' }, { GROUP: 'gpio', MODE: '0660' })).toBe(true);
    expect(has({ SUBSYSTEM: 'dma_heap' }, { GROUP: 'video', MODE: '0660' })).toBe(true);
    expect(has({ SUBSYSTEM: 'input', KERNEL: 'event[0-9]*' }, { GROUP: 'input', MODE: '0660' })).toBe(true);
    // sysfs export/unexport and each exported line's files, for group gpio (onoff writes them).
    const runs = rules.rules.flatMap((r) => r.run);
    expect(runs).toContain('/usr/bin/chgrp gpio /sys/class/gpio/export /sys/class/gpio/unexport');
    expect(runs).toContain('/usr/bin/chmod 0660 /sys%p/active_low /sys%p/direction /sys%p/edge /sys%p/value');
    // udev runs programs by absolute path: each must exist on a merged-/usr Debian.
    for (const program of new Set(runs.map((r) => r.split(' ')[0]!)))
      expect(existsSync(program), program).toBe(true);
  });

  it('runs the installed release on its bundled Node 24, native addons included', () => {
    const node = join(root, 'opt/classbox/node/bin/node');
    expect(run(node, ['--version']).stdout).toMatch(/^v24\.\d+\.\d+\n$/);
    const current = join(root, 'opt/classbox/releases/current');
    const cli = run(node, [join(current, 'bin/classbox.js'), '--version']);
    expect(cli.stdout.trim()).toBe(VERSION);
    const probe = run(node, [
      '-e',
      `const from = (name) => require(require.resolve(name, { paths: [process.argv[1]] }));
       const Database = from('better-sqlite3');
       const db = new Database(':memory:');
       db.exec('create table t (x text)');
       db.prepare('insert into t values (?)').run('瑞金');
       from('unix-dgram').createSocket('unix_dgram').close();
       from('epoll');
       process.stdout.write(db.prepare('select x from t').get().x);`,
      current,
    ]);
    expect(probe.stderr).toBe('');
    expect(probe.stdout).toBe('瑞金');
  });

  it('boots the installed daemon (sim hardware) on the bundled Node: status API and kiosk page answer, SIGTERM stops it', async () => {
    const node = join(root, 'opt/classbox/node/bin/node');
    const port = 18_000 + (process.pid % 2000);
    const config = join(dir, 'sim-device.json');
    writeFileSync(
      config,
      JSON.stringify({
        device: { id: 'pkg-test-01', displayName: '打包测试' },
        janus: { url: 'ws://127.0.0.1:9', room: 1234 },
        hardware: { mode: 'sim' },
        kiosk: { browser: 'none' },
        control: { port },
        stateDir: join(dir, 'sim-state'),
      }),
    );
    const daemon = spawn(
      node,
      [join(root, 'opt/classbox/releases/current/bin/classbox.js'), 'device', '--config', config],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    daemon.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    daemon.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
    try {
      let status: { version?: string; state?: string } | undefined;
      for (let attempt = 0; attempt < 100 && status === undefined && daemon.exitCode === null; attempt++) {
        try {
          status = (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as typeof status;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect(status, output).toMatchObject({ version: VERSION });
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
  });

  it('ships a default config that is a valid fleet box once enrolment supplies the identity', () => {
    const raw = JSON.parse(readFileSync(join(root, 'etc/classbox/device.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(raw).toMatchObject({
      fleet: { enrolmentFile: '/var/lib/classbox/enrolment/classbox-enrol.json' },
      hardware: { mode: 'pi' },
    });
    const withIdentity = { ...raw, device: { id: 'jx-ruijin-01', displayName: '瑞金教学点' } };
    const parsed = deviceConfigSchema.safeParse(withIdentity);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it.skipIf(!hasSystemdAnalyze)(
    'has units that systemd-analyze verifies cleanly, with a sandbox exposure of at most 3.5',
    () => {
      // systemd-analyze resolves ExecStart= and dependencies inside --root: give the installed root the
      // host's standard units (targets, getty) in a copy, so the throwaway root itself stays as installed.
      const verifyRoot = join(dir, 'verify-root');
      cpSync(root, verifyRoot, { recursive: true, verbatimSymlinks: true });
      cpSync('/usr/lib/systemd/system', join(verifyRoot, 'usr/lib/systemd/system'), {
        recursive: true,
        force: false,
        verbatimSymlinks: true,
      });
      mkdirSync(join(verifyRoot, 'boot/firmware'), { recursive: true });
      const verify = run('systemd-analyze', [
        'verify',
        `--root=${verifyRoot}`,
        ...UNITS.map((u) => `/usr/lib/systemd/system/${u}`),
      ]);
      expect(verify.stderr).toBe('');
      expect(verify.status).toBe(0);
      for (const unit of UNITS) {
        const security = run('systemd-analyze', [
          'security',
          '--offline=true',
          `--root=${verifyRoot}`,
          '--threshold=35',
          unit,
        ]);
        expect(security.status, `${unit}: ${security.stdout.split('\n').slice(-2).join('')}`).toBe(0);
      }
      const unit = readFileSync(join(root, 'usr/lib/systemd/system/classbox.service'), 'utf8');
      for (const line of [
        'Type=notify',
        'NotifyAccess=main',
        'Restart=always',
        'User=classbox',
        'ProtectSystem=strict',
        'PrivateTmp=yes',
        'NoNewPrivileges=yes',
        'DevicePolicy=closed',
        'LimitRTPRIO=8',
        'ExecStart=/opt/classbox/node/bin/node --max-semi-space-size=1 /opt/classbox/releases/current/bin/classbox.js device --config /etc/classbox/device.json',
      ]) {
        expect(unit.split('\n')).toContain(line);
      }
      expect(unit).toMatch(/^WatchdogSec=\d+s$/m);
    },
  );

  // dpkg --remove and --purge in the throwaway root took 25–33 s on the shared two-core CI machine.
  it('runs its maintainer scripts again without change, then removes and purges cleanly', () => {
    const before = ['etc/passwd', 'etc/group'].map((f) => readFileSync(join(root, f), 'utf8'));
    const again = run('bash', [join(root, 'var/lib/dpkg/info/classbox.postinst'), 'configure', VERSION], {
      DPKG_ROOT: root,
    });
    expect(again.status, again.stderr).toBe(0);
    expect(['etc/passwd', 'etc/group'].map((f) => readFileSync(join(root, f), 'utf8'))).toEqual(before);
    expect(readlinkSync(join(root, 'opt/classbox/releases/current'))).toBe(VERSION);

    writeFileSync(join(root, 'var/lib/classbox/enrolment/state.json'), '{}');
    const remove = dpkgInRoot('--remove', 'classbox');
    expect(remove.status, remove.stderr).toBe(0);
    expect(existsSync(join(root, 'opt/classbox/releases/current'))).toBe(false);
    expect(existsSync(join(root, `opt/classbox/releases/${VERSION}`))).toBe(false);
    expect(existsSync(join(root, 'etc/systemd/system/multi-user.target.wants/classbox.service'))).toBe(false);
    expect(existsSync(join(root, 'etc/classbox/device.json'))).toBe(true);
    expect(existsSync(join(root, 'var/lib/classbox/enrolment/state.json'))).toBe(true);

    const purge = dpkgInRoot('--purge', 'classbox');
    expect(purge.status, purge.stderr).toBe(0);
    expect(existsSync(join(root, 'etc/classbox'))).toBe(false);
    expect(existsSync(join(root, 'var/lib/classbox'))).toBe(false);
    expect(existsSync(join(root, 'opt/classbox'))).toBe(false);
  }, 120_000);
});

interface UdevRule {
  match: Record<string, string>;
  assign: Record<string, string>;
  run: string[];
}

/**
 * udev rule syntax (udev(7)): comma-separated `KEY[{attr}] OP "value"` pairs per line; match keys take
 * `==`/`!=`, assignment keys `=`, `+=`, `-=` or `:=`. udevadm verify (systemd 254) is not on Debian 12.
 */
function parseUdevRules(text: string): { rules: UdevRule[]; problems: string[] } {
  const MATCH = new Set([
    'ACTION',
    'KERNEL',
    'SUBSYSTEM',
    'DRIVER',
    'ATTR',
    'ATTRS',
    'ENV',
    'TAG',
    'KERNELS',
    'SUBSYSTEMS',
    'DRIVERS',
    'PROGRAM',
    'RESULT',
  ]);
  const ASSIGN = new Set(['GROUP', 'MODE', 'OWNER', 'RUN', 'TAG', 'ENV', 'SYMLINK', 'ATTR']);
  const rules: UdevRule[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const rule: UdevRule = { match: {}, assign: {}, run: [] };
    const pair = /\s*([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(,|$)/y;
    let at = 0;
    while (at < line.length) {
      pair.lastIndex = at;
      const m = pair.exec(line);
      if (!m) {
        problems.push(`line ${i + 1}: can't parse from "${line.slice(at)}"`);
        return;
      }
      const [, key, , op, value] = m as unknown as [string, string, string | undefined, string, string];
      const isMatch = op === '==' || op === '!=';
      if (!(isMatch ? MATCH : ASSIGN).has(key)) problems.push(`line ${i + 1}: ${key}${op} is not valid`);
      if (key === 'MODE' && !/^0[0-7]{3}$/.test(value)) problems.push(`line ${i + 1}: MODE "${value}"`);
      if (key === 'RUN') rule.run.push(value);
      else (isMatch ? rule.match : rule.assign)[key] = value;
      at = pair.lastIndex;
    }
    rules.push(rule);
  });
  return { rules, problems };
}

describe.skipIf(!hasDpkg)('images/build-deb.sh for a foreign architecture', () => {
  it('says at once that native addons must be built on that architecture', () => {
    const host = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
    const foreign = host === 'arm64' ? 'amd64' : 'arm64';
    const result = run(join(REPO, 'images', 'build-deb.sh'), ['--arch', foreign, '--skip-app-build']);
    expect(result.status).toBe(3);
    expect(result.stderr).toContain(
      `can't compile the native addons (better-sqlite3, unix-dgram, epoll) for ${foreign}`,
    );
    expect(result.stderr).toContain(`build the ${foreign} package on an ${foreign} machine`);
    expect(result.stderr).toContain('--prebuilt-addons');
  });
});
