import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  copyFile,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  statfs,
  symlink,
  unlink,
} from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { syncPath } from '../../common/atomic-file.js';
import { reason } from '../../common/errors.js';
import { RELEASE_VERSION } from '../../common/release-manifest.js';
import type { BoxFacts } from '../domain/update-plan.js';
import { isNoSpace } from '../ports/storage.port.js';
import { ReleaseFilesPort, syncedMarkOf, UpdateError } from '../ports/update.port.js';

const run = promisify(execFile);
const UNPACK_PREFIX = '.unpack-';
const LINK_TEMP = '.current.tmp';

export interface ReleaseFilesOptions {
  /** `/opt/classbox`: holds `releases/` and `downloads/`. */
  readonly root: string;
  /** Folder of trusted release public keys (`*.pem`). */
  readonly trustedKeysDir: string;
  readonly osReleaseFile?: string;
}

/**
 * The release tree on disk. `current` is a relative link (`current → 1.4.0`), replaced by
 * renaming a new link over it: rename(2) is atomic, so a power cut leaves the old or the new.
 */
export class FsReleaseFiles extends ReleaseFilesPort {
  private readonly releases: string;
  private readonly downloads: string;

  constructor(private readonly options: ReleaseFilesOptions) {
    super();
    this.releases = join(options.root, 'releases');
    this.downloads = join(options.root, 'downloads');
  }

  async facts(): Promise<BoxFacts> {
    let osVersion: string | undefined;
    try {
      const text = await readFile(this.options.osReleaseFile ?? '/etc/os-release', 'utf8');
      osVersion = /^VERSION_ID="?([^"\n]*)"?$/m.exec(text)?.[1];
    } catch {
      osVersion = undefined;
    }
    return { arch: process.arch, nodeAbi: Number(process.versions.modules), osVersion };
  }

  async freeBytes(): Promise<number> {
    await this.ensureDirs();
    const fs = await statfs(this.options.root);
    return fs.bavail * fs.bsize;
  }

  async trustedKeys(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.options.trustedKeysDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new UpdateError('E-UPDATE-STATE', `can't read ${this.options.trustedKeysDir}`, { cause: error });
    }
    return Promise.all(
      names
        .filter((n) => n.endsWith('.pem'))
        .sort()
        .map((n) => readFile(join(this.options.trustedKeysDir, n), 'utf8')),
    );
  }

  async downloadFile(version: string): Promise<{ file: string; size: number }> {
    await this.ensureDirs();
    const file = this.payloadFile(version);
    try {
      return { file, size: (await stat(file)).size };
    } catch {
      return { file, size: 0 };
    }
  }

  async copyIntoDownload(version: string, source: string): Promise<void> {
    await this.ensureDirs();
    const temp = `${this.payloadFile(version)}.copy`;
    await copyFile(source, temp);
    await syncPath(temp);
    await rename(temp, this.payloadFile(version));
  }

  async hashDownload(version: string): Promise<{ sha256: string; size: number }> {
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of createReadStream(this.payloadFile(version)) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { sha256: '', size: 0 };
      throw new UpdateError('E-UPDATE-STATE', `can't read the payload of version ${version}`, {
        cause: error,
      });
    }
    return { sha256: hash.digest('hex'), size };
  }

  async removeDownload(version: string): Promise<void> {
    await rm(this.payloadFile(version), { force: true });
    await rm(syncedMarkOf(this.payloadFile(version)), { force: true });
  }

  async unpack(version: string): Promise<void> {
    const target = this.releaseDir(version);
    if (await isDir(target)) return;
    const temp = join(this.releases, `${UNPACK_PREFIX}${version}`);
    await rm(temp, { recursive: true, force: true });
    await mkdir(temp, { recursive: true });
    try {
      await extractAll(this.payloadFile(version), temp);
      // Everything written reaches the disk before the folder gets its real name.
      await run('sync', ['-f', temp]);
    } catch (error) {
      // extractAll returns only once tar has stopped writing, so the folder can really be removed;
      // if not (a dying disk), the next start's removeLeftovers takes it.
      await rm(temp, { recursive: true, force: true }).catch(() => undefined);
      if (isNoSpace(error)) {
        throw new UpdateError('E-UPDATE-SPACE', `the disk filled up while unpacking version ${version}`, {
          cause: error,
        });
      }
      throw new UpdateError('E-UPDATE-UNPACK', `can't unpack version ${version}: ${reason(error)}`, {
        cause: error,
      });
    }
    await rename(temp, target);
    await syncPath(this.releases);
  }

  async isInstalled(version: string): Promise<boolean> {
    return isDir(this.releaseDir(version));
  }

  async currentVersion(): Promise<string | undefined> {
    try {
      const target = basename(await readlink(join(this.releases, 'current')));
      return (await isDir(this.releaseDir(target))) ? target : undefined;
    } catch {
      return undefined;
    }
  }

  async switchCurrent(version: string): Promise<void> {
    if (!(await isDir(this.releaseDir(version)))) {
      throw new UpdateError('E-UPDATE-SWITCH', `can't switch to version ${version}: it is not installed`);
    }
    const temp = join(this.releases, LINK_TEMP);
    try {
      await rm(temp, { force: true });
      await symlink(version, temp);
      await rename(temp, join(this.releases, 'current'));
      await syncPath(this.releases);
    } catch (error) {
      throw new UpdateError('E-UPDATE-SWITCH', `can't switch current to version ${version}`, {
        cause: error,
      });
    }
  }

  async listReleases(): Promise<string[]> {
    const entries = await readdir(this.releases, { withFileTypes: true }).catch(ifMissing([]));
    return entries.filter((e) => e.isDirectory() && RELEASE_VERSION.test(e.name)).map((e) => e.name);
  }

  async removeRelease(version: string): Promise<void> {
    if ((await this.currentVersion()) === version) return;
    await rm(this.releaseDir(version), { recursive: true, force: true });
  }

  /** Reads only when nothing is there: a development checkout has no release tree. */
  async removeLeftovers(): Promise<void> {
    for (const name of await readdir(this.releases).catch(ifMissing([]))) {
      if (name.startsWith(UNPACK_PREFIX) || name === LINK_TEMP) {
        await rm(join(this.releases, name), { recursive: true, force: true });
      }
    }
    for (const name of await readdir(this.downloads).catch(ifMissing([]))) {
      if (name.endsWith('.copy') || name.includes('.synced.tmp-')) await unlink(join(this.downloads, name));
    }
  }

  private releaseDir(version: string): string {
    if (!RELEASE_VERSION.test(version))
      throw new UpdateError('E-UPDATE-MANIFEST', `bad version "${version}"`);
    return join(this.releases, version);
  }

  private payloadFile(version: string): string {
    if (!RELEASE_VERSION.test(version))
      throw new UpdateError('E-UPDATE-MANIFEST', `bad version "${version}"`);
    return join(this.downloads, `${version}.tar.gz`);
  }

  private async ensureDirs(): Promise<void> {
    await mkdir(this.releases, { recursive: true });
    await mkdir(this.downloads, { recursive: true });
  }
}

/**
 * Extract a tar.gz, refusing it on the first bad entry, but returning only after the whole
 * stream is done. With `strict`, tar rejects at the first bad entry while it is still writing
 * the others, and removing the folder then raced those writes (ENOTEMPTY, issue 13): so entry
 * errors are collected as warnings and judged at the end.
 */
/**
 * GNU tar (Debian's, essential on every image), not a JavaScript tar: a release holds some 15,000 files
 * (node_modules), and per file the JavaScript extraction costs ~20 times what tar does — 12 minutes
 * for one release on the emulated box of the system test (issue 15), several seconds on a Pi. The
 * payload's size and SHA-256 were checked against the signed manifest before this runs; tar still
 * refuses absolute names and members with `..` (its defaults), and fails the unpack if any is there.
 */
async function extractAll(file: string, cwd: string): Promise<void> {
  try {
    await run('tar', ['--extract', '--gzip', '--file', file, '--directory', cwd, '--no-same-owner'], {
      maxBuffer: 1 << 20,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    // tar says so in words: the errno is not in its exit status.
    const code = /No space left on device/.test(stderr)
      ? 'ENOSPC'
      : /Disk quota exceeded/.test(stderr)
        ? 'EDQUOT'
        : undefined;
    throw Object.assign(new Error(stderr.split('\n').slice(0, 3).join('; ') || reason(error)), {
      cause: error,
      ...(code ? { code } : {}),
    });
  }
}

function ifMissing<T>(fallback: T): (error: unknown) => T {
  return (error) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw error;
  };
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
