import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cp, lstat, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import { reason } from '../../common/errors.js';
import * as tar from 'tar';
import { releaseVersion, type ReleaseManifest } from '../../common/release-manifest.js';

/** What goes into a release from a built checkout (the package layout of /opt/classbox/releases/<v>/). */
const APP_ENTRIES = ['bin', 'dist', 'package.json'];

const execFileAsync = promisify(execFile);

export interface BuildOptions {
  /** A built checkout (`npm run build` done): bin/, dist/, package.json, node_modules/. */
  readonly appDir: string;
  /** Instead of picking from `appDir`, pack this folder as it is (already staged). */
  readonly stagedDir?: string;
  readonly outDir: string;
  readonly version: string;
  readonly arch: ReleaseManifest['arch'];
  readonly nodeAbi: number;
  readonly minOsVersion: string;
  /** A deliberate rollback (see the manifest's `allowRollback`). */
  readonly allowRollback?: boolean;
  readonly now: Date;
}

export interface BuiltRelease {
  readonly manifestFile: string;
  readonly payloadFile: string;
  readonly manifest: ReleaseManifest;
}

/**
 * Build `classbox-<version>-<arch>.tar.gz` and its manifest. From a checkout, only the
 * production dependencies are taken (`productionDependencies`), never the dev tools.
 */
export async function buildRelease(options: BuildOptions): Promise<BuiltRelease> {
  if (!releaseVersion.safeParse(options.version).success)
    throw new Error(`"${options.version}" is not a semantic version such as 1.4.0 or 1.4.0-pilot.2`);
  let stage = options.stagedDir;
  let temp: string | undefined;
  if (stage === undefined) {
    temp = await mkdtemp(join(tmpdir(), 'classbox-release-'));
    stage = temp;
    await stageApp(options.appDir, stage);
  }
  try {
    await mkdir(options.outDir, { recursive: true });
    const payloadName = `classbox-${options.version}-${options.arch}.tar.gz`;
    const payloadFile = join(options.outDir, payloadName);
    const entries = (await readdir(stage)).sort();
    await tar.c({ gzip: { level: 6 }, file: payloadFile, cwd: stage, portable: true }, entries);
    const manifest: ReleaseManifest = {
      format: 1,
      name: 'classbox',
      version: options.version,
      arch: options.arch,
      nodeAbi: options.nodeAbi,
      minOsVersion: options.minOsVersion,
      payload: {
        file: payloadName,
        sha256: await sha256File(payloadFile),
        size: (await stat(payloadFile)).size,
        unpackedSize: Math.max(1, await treeSize(stage)),
      },
      builtAt: options.now.toISOString(),
      ...(options.allowRollback ? { allowRollback: true as const } : {}),
    };
    const manifestFile = join(options.outDir, `classbox-${options.version}-${options.arch}.manifest.json`);
    await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    return { manifestFile, payloadFile, manifest };
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}

async function stageApp(appDir: string, stage: string): Promise<void> {
  for (const entry of APP_ENTRIES) {
    await cp(join(appDir, entry), join(stage, entry), { recursive: true, verbatimSymlinks: true });
  }
  for (const dir of await productionDependencies(appDir)) {
    await cp(join(appDir, dir), join(stage, dir), { recursive: true, verbatimSymlinks: true });
  }
}

const npmQueryAnswer = z.array(z.looseObject({ location: z.string() }));

/**
 * Folders (relative to appDir) of the production dependency closure, as npm itself reckons it
 * (`npm query .prod`: the tree `npm ci --omit=dev` installs, which is how images/build-deb.sh fills
 * the .deb), so the OTA bundle and the .deb carry the same packages (test/integration/packaging/deb-package.test.ts).
 */
export async function productionDependencies(appDir: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('npm', ['query', '.prod'], {
      cwd: appDir,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, npm_config_loglevel: 'error' },
    }));
  } catch (error) {
    throw new Error(
      `can't list the production dependencies of ${appDir} (npm query .prod): ${reason(error)}`,
      {
        cause: error,
      },
    );
  }
  const found = npmQueryAnswer
    .parse(JSON.parse(stdout))
    .map((node) => node.location)
    .filter((location) => location.startsWith('node_modules/'));
  // A folder inside another one already copied comes along with it.
  return [...new Set(found)]
    .sort()
    .filter((dir, _, all) => !all.some((o) => o !== dir && dir.startsWith(`${o}/`)));
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await treeSize(path);
    else total += (await lstat(path)).size;
  }
  return total;
}
