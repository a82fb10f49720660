import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  lstatSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, run } from './packaging-helpers.js';

const IMAGE_DIR = join(REPO, 'images', 'rpi-image-gen');
const LAYER = join(IMAGE_DIR, 'layer', 'classbox-box.yaml');
const CONFIGURE = join(IMAGE_DIR, 'layer', 'classbox-box.d', 'configure-rootfs');
const hasYaml = run('python3', ['-c', 'import yaml']).status === 0;
const hasShellcheck = run('sh', ['-c', 'command -v shellcheck']).status === 0;
if (!hasYaml)
  console.warn(
    'Skipping the rpi-image-gen YAML checks: python3 with PyYAML is missing (apt-get install python3-yaml)',
  );

/** YAML to JSON through PyYAML: the same parser family rpi-image-gen's tooling uses. */
function yaml(file: string): Record<string, unknown> {
  const result = run('python3', [
    '-c',
    'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))',
    file,
  ]);
  if (result.status !== 0) throw new Error(`${file} is not valid YAML: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** rpi-image-gen's `# X-Env-...: value` layer header (first line of each value). */
function layerMetadata(text: string): Map<string, string> {
  const header = text.slice(text.indexOf('# METABEGIN'), text.indexOf('# METAEND'));
  return new Map([...header.matchAll(/^# (X-Env-[\w-]+):[ \t]*(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()]));
}

describe('the rpi-image-gen layer and configs', () => {
  it('declares its variables the way rpi-image-gen lints them', () => {
    const meta = layerMetadata(readFileSync(LAYER, 'utf8'));
    expect(meta.get('X-Env-Layer-Name')).toBe('classbox-box');
    expect(meta.get('X-Env-VarPrefix')).toBe('classbox');
    const vars = [...meta.keys()]
      .filter((k) => /^X-Env-Var-[a-z_]+$/.test(k))
      .map((k) => k.slice('X-Env-Var-'.length));
    expect(vars.sort()).toEqual([
      'deb',
      'fleet_url',
      'gpio_buttons',
      'gpio_leds',
      'kernel_headers',
      'layer_dir',
      'release_keys',
    ]);
    for (const name of vars) {
      for (const attr of ['Desc', 'Required', 'Valid', 'Set']) {
        expect(meta.has(`X-Env-Var-${name}-${attr}`), `${name}-${attr}`).toBe(true);
      }
    }
    // No attribute for an undeclared variable.
    const orphans = [...meta.keys()]
      .map((k) => /^X-Env-Var-([a-z_]+)-[A-Z]\w*$/.exec(k)?.[1])
      .filter((v): v is string => v !== undefined && !vars.includes(v));
    expect(orphans).toEqual([]);
  });

  it.skipIf(!hasYaml)(
    'installs the kiosk, camera and memory packages and configures the root with its script',
    () => {
      const layer = yaml(LAYER) as { mmdebstrap: { packages: string[]; 'customize-hooks': string[] } };
      expect(layer.mmdebstrap.packages).toEqual(
        expect.arrayContaining([
          'chromium',
          'labwc',
          'fonts-wqy-microhei',
          'rpicam-apps-lite',
          'systemd-zram-generator',
        ]),
      );
      const hooks = layer.mmdebstrap['customize-hooks'].join('\n');
      expect(hooks).toContain('apt-get install -y --no-install-recommends /tmp/classbox.deb');
      expect(hooks).toContain(
        'classbox-box.d/configure-rootfs" "$1" "$IGconf_classbox_fleet_url" "${IGconf_classbox_gpio_buttons-17,27}" "${IGconf_classbox_gpio_leds-22,23}"',
      );
      // A CSI camera's bridge: v4l2loopback built by DKMS for the board's kernel, and ffmpeg.
      expect(hooks).toContain('"$IGconf_classbox_kernel_headers" v4l2loopback-dkms ffmpeg');
    },
  );

  it.skipIf(!hasYaml)('has a Pi 4 and a Pi 5 config on trixie that set every required variable', () => {
    const meta = layerMetadata(readFileSync(LAYER, 'utf8'));
    const required = [...meta.entries()]
      .filter(([k, v]) => /^X-Env-Var-[a-z_]+-Required$/.test(k) && v === 'y')
      .map(([k]) => k.split('-')[3]!);
    for (const [file, device] of [
      ['classbox-pi4.yaml', 'rpi4'],
      ['classbox-pi5.yaml', 'rpi5'],
    ] as const) {
      const config = yaml(join(IMAGE_DIR, 'config', file)) as {
        device: { layer: string };
        layer: Record<string, string>;
        classbox: Record<string, string>;
      };
      expect(config.device.layer).toBe(device);
      expect(config.layer.base).toMatch(/^trixie-/);
      expect(Object.values(config.layer)).toContain('classbox-box');
      for (const name of required) expect(config.classbox[name], `${file}: classbox.${name}`).toBeTruthy();
      expect(config.classbox.deb).toMatch(/classbox_[\d.]+_arm64\.deb$/);
    }
  });

  it.skipIf(!hasYaml || !hasShellcheck)('has inline hooks that pass shellcheck', () => {
    const layer = yaml(LAYER) as { mmdebstrap: { 'customize-hooks': string[] } };
    for (const hook of layer.mmdebstrap['customize-hooks']) {
      // Hooks run with the chroot as $1 and the IGconf_* variables in the environment.
      const script = `#!/bin/bash\n# shellcheck disable=SC2154\nset -- /root-under-construction\n${hook}\n`;
      const result = run('shellcheck', ['-'], {}, script);
      expect(result.stdout, hook).toBe('');
    }
  });
});

describe('classbox-box.d/configure-rootfs on a scratch root', () => {
  let dir: string;
  let root: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-image-test-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** What an rpi-image-gen trixie root looks like once the classbox package is installed, as far as the script cares. */
  function scratchRoot(
    name: string,
    sources = 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie trixie-updates\nComponents: main\n',
  ): string {
    const r = join(dir, name);
    mkdirSync(join(r, 'etc/classbox'), { recursive: true });
    mkdirSync(join(r, 'etc/apt/sources.list.d'), { recursive: true });
    mkdirSync(join(r, 'usr/lib/systemd/system'), { recursive: true });
    mkdirSync(join(r, 'boot/firmware'), { recursive: true });
    cpSync(join(REPO, 'images/deb/device.json'), join(r, 'etc/classbox/device.json'));
    cpSync(join(REPO, 'device/systemd/classbox.service'), join(r, 'usr/lib/systemd/system/classbox.service'));
    cpSync(join(REPO, 'images/deb/boot-config'), join(r, 'usr/lib/classbox/boot-config'));
    writeFileSync(join(r, 'etc/apt/sources.list.d/debian.sources'), sources);
    writeFileSync(join(r, 'boot/firmware/config.txt'), '[all]\ndtparam=audio=on\n[pi4]\narm_boost=1\n');
    writeFileSync(join(r, 'boot/firmware/cmdline.txt'), 'console=tty1 root=PARTUUID=1234-02 rootwait\n');
    return r;
  }

  function snapshot(r: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        const st = lstatSync(p);
        if (st.isSymbolicLink()) out[relative(r, p)] = `-> ${readlinkSync(p)}`;
        else if (st.isDirectory()) walk(p);
        else out[relative(r, p)] = readFileSync(p, 'utf8');
      }
    };
    walk(r);
    return out;
  }

  it('sets the fleet URL, zram, watchdog, rpicam links, apt pins, volatile journal and the kiosk target, idempotently', () => {
    root = scratchRoot('good');
    // The release keys folder as `classbox release keygen` leaves it: the public key beside the private one.
    const keys = join(dir, 'keys');
    mkdirSync(keys, { recursive: true });
    writeFileSync(
      join(keys, 'release.pub.pem'),
      '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n',
    );
    writeFileSync(
      join(keys, 'release.key.pem'),
      '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n',
    );
    const args = [root, 'https://fleet.jx.example.cn:8443/classbox', '17,27', '22,23', '', keys];
    const first = run(CONFIGURE, args);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const tree = snapshot(root);

    const config = JSON.parse(tree['etc/classbox/device.json']!) as {
      fleet: { url: string; enrolmentFile: string };
    };
    expect(config.fleet).toEqual({
      url: 'https://fleet.jx.example.cn:8443/classbox',
      enrolmentFile: '/var/lib/classbox/enrolment/classbox-enrol.json',
    });
    expect(tree['etc/systemd/zram-generator.conf']).toContain('[zram0]');
    expect(tree['etc/systemd/system.conf.d/classbox-watchdog.conf']).toContain('RuntimeWatchdogSec=15s');
    expect(tree['etc/systemd/system.conf.d/classbox-device-timeout.conf']).toContain(
      'DefaultDeviceTimeoutSec=10min',
    );
    expect(tree['boot/firmware/config.txt']).toContain(
      '\n[all]\n# classbox: hardware watchdog\ndtparam=watchdog=on\n',
    );
    expect(tree['usr/local/bin/libcamera-still']).toBe('-> /usr/bin/rpicam-still');
    expect(tree['usr/local/bin/libcamera-vid']).toBe('-> /usr/bin/rpicam-vid');
    expect(tree['etc/apt/preferences.d/classbox']).toMatch(/Pin: release n=trixie\nPin-Priority: 990/);
    expect(tree['etc/systemd/system/apt-daily-upgrade.timer']).toBe('-> /dev/null');
    expect(tree['etc/systemd/journald.conf.d/classbox.conf']).toContain('Storage=volatile');
    expect(tree['etc/systemd/system/default.target']).toBe('-> /usr/lib/systemd/system/graphical.target');
    // The buttons' pull-ups and the LEDs' level at power-on, for every board (issue 12), and no blanking.
    const boot = tree['boot/firmware/config.txt']!;
    expect(boot.slice(boot.lastIndexOf('[all]'))).toMatch(
      /^\[all\]\n(#.*\n)*gpio=17,27=ip,pu\n(#.*\n)*gpio=22,23=op,dl\n/,
    );
    expect(tree['boot/firmware/cmdline.txt']).toBe(
      'console=tty1 root=PARTUUID=1234-02 rootwait consoleblank=0 panic=10 oops=panic\n',
    );
    expect(tree['etc/modprobe.d/classbox-v4l2loopback.conf']).toBeUndefined();
    // The public release key, and never the private one beside it.
    expect(tree['etc/classbox/release-keys/release.pub.pem']).toContain('BEGIN PUBLIC KEY');
    expect(Object.keys(tree).filter((f) => f.startsWith('etc/classbox/release-keys/'))).toEqual([
      'etc/classbox/release-keys/release.pub.pem',
    ]);

    const second = run(CONFIGURE, args);
    expect(second.status).toBe(0);
    expect(snapshot(root)).toEqual(tree);
  });

  it('writes the configured pins into config.txt, loads v4l2loopback for a CSI camera, and refuses a bad pin', () => {
    const r = scratchRoot('pins');
    const result = run(CONFIGURE, [r, 'https://fleet.example.cn', '5,6', '', 'linux-headers-rpi-2712']);
    // No release keys given: built, but said plainly.
    expect(result.stderr).toBe(
      'classbox-box: warning: no release keys given; boxes of this image will refuse every update\n',
    );
    const tree = snapshot(r);
    expect(tree['boot/firmware/config.txt']).toContain('\ngpio=5,6=ip,pu\n');
    expect(tree['boot/firmware/config.txt']).not.toContain('=op,dl');
    expect(tree['etc/modprobe.d/classbox-v4l2loopback.conf']).toContain(
      'options v4l2loopback video_nr=10 card_label="Pi Camera" exclusive_caps=1',
    );
    expect(tree['etc/modules-load.d/classbox-v4l2loopback.conf']).toBe('v4l2loopback\n');

    const bad = run(CONFIGURE, [scratchRoot('bad-pin'), 'https://fleet.example.cn', '17,28']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('BCM 28 is not a header GPIO (2 to 27)');
  });

  it('refuses a fleet URL that would break the JSON, a moving apt suite, and a root without the package', () => {
    const bad = run(CONFIGURE, [scratchRoot('bad-url'), 'https://x.cn/"evil']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('is not an http(s) URL');

    const moving = run(CONFIGURE, [
      scratchRoot('moving', 'deb http://deb.debian.org/debian stable main\n# deb http://x testing main\n'),
      'https://fleet.example.cn',
    ]);
    expect(moving.status).toBe(1);
    expect(moving.stdout).toContain('debian.sources:1:');
    expect(moving.stdout).not.toContain('testing');
    expect(moving.stderr).toContain('moving suite alias');

    const bare = join(dir, 'bare');
    mkdirSync(bare);
    const missing = run(CONFIGURE, [bare, 'https://fleet.example.cn']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('the classbox package is not installed');
  });
});

describe.skipIf(!hasShellcheck)('the shell scripts', () => {
  it('all pass shellcheck', () => {
    const scripts = [
      'images/build-deb.sh',
      'images/deb/classbox.wrapper',
      'images/deb/debian/postinst',
      'images/deb/debian/prerm',
      'images/deb/debian/postrm',
      'images/deb/boot-config',
      'images/rpi-image-gen/layer/classbox-box.d/configure-rootfs',
      'device/systemd/kiosk-session',
      'device/systemd/import-enrolment-seed',
      'provisioning/flash',
    ].map((s) => join(REPO, s));
    const result = run('shellcheck', ['--severity=style', ...scripts]);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
    for (const script of scripts)
      expect(readFileSync(script, 'utf8'), script).toMatch(/^#!\/bin\/bash\n(#.*\n)*set -euo pipefail$/m);
  });
});
