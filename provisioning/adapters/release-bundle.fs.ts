import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { releaseVersion, type ReleaseManifest } from '../../common/release-manifest.js';

/** What goes into a release from a built checkout (the package layout of /opt/classbox/releases/<v>/). */
const APP_ENTRIES = ['bin', 'dist', 'package.json'];

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
 * production dependencies are taken: the closure of package.json `dependencies` (and their
 * optional ones) found in node_modules, never the dev tools.
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
  const pkg = JSON.parse(await readFile(join(appDir, 'package.json'), 'utf8')) as PackageJson;
  for (const dir of await productionDependencies(appDir, pkg)) {
    await cp(join(appDir, dir), join(stage, dir), { recursive: true, verbatimSymlinks: true });
  }
}

type PackageJson = {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

/** Folders (relative to appDir) of the production dependency closure, npm's node_modules layout. */
export async function productionDependencies(appDir: string, pkg: PackageJson): Promise<string[]> {
  const found = new Set<string>();
  const visit = async (fromDir: string, deps: Record<string, string>): Promise<void> => {
    for (const name of Object.keys(deps)) {
      const dir = await resolveModule(appDir, fromDir, name);
      if (dir === undefined || found.has(dir)) continue;
      found.add(dir);
      const child = JSON.parse(await readFile(join(appDir, dir, 'package.json'), 'utf8')) as PackageJson;
      await visit(dir, { ...child.dependencies, ...child.optionalDependencies });
    }
  };
  await visit('', { ...pkg.dependencies, ...pkg.optionalDependencies });
  // A folder inside another one already copied comes along with it.
  return [...found].sort().filter((dir, _, all) => !all.some((o) => o !== dir && dir.startsWith(`${o}/`)));
}

/** Node's lookup: `<dir>/node_modules/<name>` from the requiring package up to the root. */
async function resolveModule(appDir: string, fromDir: string, name: string): Promise<string | undefined> {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    try {
      await stat(join(appDir, candidate, 'package.json'));
      return candidate;
    } catch {
      // Not here: one level up.
    }
    if (dir === '') return undefined;
    const parts = dir.split('/');
    const at = parts.lastIndexOf('node_modules');
    dir = at <= 0 ? '' : parts.slice(0, at).join('/');
  }
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
