import { InvalidArgumentError, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { reason } from '../common/errors.js';
import { readReleaseSignatureFile, ReleaseSignatureFileError } from '../common/release-signature-file.js';
import { FsReleaseFiles } from './adapters/release-files.fs.js';
import { updateCheckpoint } from './adapters/update-checkpoint.js';
import { FsUpdateState } from './adapters/update-state.fs.js';
import { UpdateError } from './ports/update.port.js';
import { ReleaseInstaller } from './services/release-installer.js';

function fail(command: string, message: string, code = 2): void {
  process.stderr.write(`classbox release ${command}: ${message}\n`);
  process.exitCode = code;
}

function whole(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number from 1');
  return n;
}

/**
 * The box's own release commands, `classbox release install` and `recover` (run on the box: by
 * hand, by images/ scripts and the .deb's postinst), added to the `release` command of the IT tools.
 */
export function registerBoxReleaseCommands(release: Command): void {
  withBoxPaths(
    release
      .command('install')
      .description('install a release from files on this box (no restart): verify, unpack, switch current'),
  )
    .requiredOption('--manifest <file>', 'manifest (its .sig beside it)')
    .requiredOption('--payload <file>', 'payload tar.gz')
    .action(async (options: BoxPaths & { manifest: string; payload: string }) => {
      const installer = localInstaller(options);
      try {
        await installer.recover(false);
        const manifest = await readFile(options.manifest, 'utf8');
        const signature = await readReleaseSignatureFile(`${options.manifest}.sig`);
        const parsedVersion = (JSON.parse(manifest) as { version?: unknown }).version;
        const record = await installer.begin({
          version: typeof parsedVersion === 'string' ? parsedVersion : '',
          manifest,
          signature,
          source: { kind: 'file', path: options.payload },
        });
        await installer.continue(record, undefined);
        process.stdout.write(`${record.version}\n`);
      } catch (error) {
        const coded = error instanceof UpdateError || error instanceof ReleaseSignatureFileError;
        fail('install', reason(error), coded ? 2 : 1);
        if (coded) process.stderr.write(`code: ${error.code}\n`);
      }
    });

  withBoxPaths(
    release
      .command('recover')
      .description('what a starting daemon does: repair the release tree and judge a version on trial'),
  )
    .option('--health-timeout <seconds>', 'trial length', whole, 300)
    .action(async (options: BoxPaths & { healthTimeout: number }) => {
      try {
        const recovery = await localInstaller(options).recover(true);
        process.stdout.write(`${JSON.stringify(recovery)}\n`);
      } catch (error) {
        fail('recover', reason(error), 1);
      }
    });
}

/** Where a box keeps its releases, state, keys and OS version: the defaults are the installed box's. */
interface BoxPaths {
  root: string;
  stateDir: string;
  keys: string;
  osRelease: string;
}

function withBoxPaths(command: Command): Command {
  return command
    .option('--root <dir>', 'release tree', '/opt/classbox')
    .option('--state-dir <dir>', 'box state folder', '/var/lib/classbox')
    .option('--keys <dir>', 'trusted release public keys', '/etc/classbox/release-keys')
    .option('--os-release <file>', 'os-release file to read VERSION_ID from', '/etc/os-release');
}

function localInstaller(options: BoxPaths & { healthTimeout?: number }): ReleaseInstaller {
  return new ReleaseInstaller(
    new FsReleaseFiles({
      root: options.root,
      trustedKeysDir: options.keys,
      osReleaseFile: options.osRelease,
    }),
    undefined,
    new FsUpdateState(options.stateDir),
    {
      healthTimeoutMs: (options.healthTimeout ?? 300) * 1000,
      maxTrialStarts: 3,
      marginBytes: 16 * 1024 * 1024,
      now: () => Date.now(),
      checkpoint: updateCheckpoint(process.env),
    },
  );
}
