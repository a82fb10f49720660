import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../cli/classbox.js';
import { ADMIN, DEVICE_ID, REPO, vmReleaseKeyDir } from './vm-harness.js';

const run = promisify(execFile);

/**
 * How a release can be made wrong for the rollback tests (issue 15):
 * - `good`: the packaged application as it is, under a new version;
 * - `unhealthy`: it starts, but its kiosk page's script throws at once, so the page never connects and
 *   the box never becomes healthy;
 * - `no-start`: its entry point throws on import, so the daemon never runs a line of its own.
 */
export type ReleaseVariant = 'good' | 'unhealthy' | 'no-start';

export interface BuiltRelease {
  version: string;
  manifest: string;
  payload: string;
  payloadBytes: number;
}

/**
 * Releases for the booted box, made the way IT makes them: the application tree of the .deb the image
 * was built from (its own Node 24 addons), given a new version, then `classbox release build --staged`,
 * `sign`, `upload` and `rollout` through the CLI against the test's fleet server.
 */
export class BoxReleases {
  private tree = '';
  private nodeAbi = 0;

  private constructor(private readonly work: string) {}

  static async open(work: string): Promise<BoxReleases> {
    const r = new BoxReleases(work);
    await r.extract();
    return r;
  }

  private async extract(): Promise<void> {
    const version = (JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string })
      .version;
    const deb = process.env.CLASSBOX_VM_DEB ?? join(REPO, 'dist', 'deb', `classbox_${version}_amd64.deb`);
    if (!existsSync(deb)) throw new Error(`no package at ${deb} (scripts/test-system.sh builds it)`);
    const root = join(this.work, 'deb');
    await run('dpkg-deb', ['-x', deb, root]);
    this.tree = join(root, 'opt', 'classbox', 'releases', version);
    // The box runs the package's Node: its ABI is what the manifest must name.
    const { stdout } = await run(join(root, 'opt', 'classbox', 'node', 'bin', 'node'), [
      '-p',
      'process.versions.modules',
    ]);
    this.nodeAbi = Number(stdout.trim());
  }

  async build(version: string, variant: ReleaseVariant = 'good'): Promise<BuiltRelease> {
    const stage = join(this.work, `stage-${version}`);
    await rm(stage, { recursive: true, force: true });
    await cp(this.tree, stage, { recursive: true, verbatimSymlinks: true });
    const pkgFile = join(stage, 'package.json');
    const pkg = JSON.parse(await readFile(pkgFile, 'utf8')) as { version: string };
    pkg.version = version;
    await writeFile(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
    if (variant === 'unhealthy') {
      const assets = join(stage, 'dist', 'kiosk-page', 'assets');
      for (const name of await readdir(assets)) {
        if (name.endsWith('.js'))
          await writeFile(join(assets, name), "throw new Error('classbox test release: a broken page');\n");
      }
    }
    if (variant === 'no-start') {
      await writeFile(
        join(stage, 'bin', 'classbox.js'),
        "#!/usr/bin/env node\nthrow new Error('classbox test release: it cannot start');\n",
      );
    }
    const out = join(this.work, `out-${version}`);
    await cli(
      'release',
      'build',
      '--staged',
      stage,
      '--out',
      out,
      '--release',
      version,
      '--arch',
      'x64',
      '--node-abi',
      String(this.nodeAbi),
      '--min-os',
      '12',
    );
    const manifest = join(out, `classbox-${version}-x64.manifest.json`);
    const payload = join(out, `classbox-${version}-x64.tar.gz`);
    await cli('release', 'sign', '--key', join(vmReleaseKeyDir(), 'release.key.pem'), '--manifest', manifest);
    await rm(stage, { recursive: true, force: true });
    const { size } = await stat(payload);
    return { version, manifest, payload, payloadBytes: size };
  }

  /** Upload it and roll it out to the test's box alone. */
  async publish(fleetUrl: string, release: BuiltRelease): Promise<void> {
    await cli(
      'release',
      'upload',
      '--fleet',
      fleetUrl,
      '--token',
      ADMIN,
      '--manifest',
      release.manifest,
      '--payload',
      release.payload,
    );
    await cli(
      'release',
      'rollout',
      '--fleet',
      fleetUrl,
      '--token',
      ADMIN,
      '--release',
      release.version,
      '--device',
      DEVICE_ID,
    );
  }
}

async function cli(...args: string[]): Promise<void> {
  const code = await main(args);
  // The CLI reports through process.exitCode, which would outlive it.
  process.exitCode = undefined;
  if (code !== 0) throw new Error(`classbox ${args.slice(0, 2).join(' ')} exited with ${code}`);
}

/** A made directory for the releases' work, beside the VM's disk. */
export async function releasesWork(base: string): Promise<string> {
  const dir = join(base, 'releases-work');
  await mkdir(dir, { recursive: true });
  return dir;
}
