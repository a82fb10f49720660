import { AdminApiClient } from './adapters/admin-api.http.js';
import { InvalidArgumentError, type Command } from 'commander';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { reason } from '../common/errors.js';
import { packageRoot } from '../common/package-root.js';
import {
  releaseArchSchema,
  releaseKeyId,
  releaseManifestSchema,
  releaseVersion,
  signManifest,
  type ReleaseManifest,
} from '../common/release-manifest.js';
import { describeIssues } from '../common/zod-issues.js';
import { readReleaseSignatureFile } from '../common/release-signature-file.js';
import { buildRelease } from './adapters/release-bundle.fs.js';

function fail(command: string, message: string, code = 2): void {
  process.stderr.write(`classbox release ${command}: ${message}\n`);
  process.exitCode = code;
}

function version(value: string): string {
  if (!releaseVersion.safeParse(value).success)
    throw new InvalidArgumentError('expected a semantic version such as 1.4.0 or 1.4.0-pilot.2');
  return value;
}

/** A manifest file's text, checked (semver version included) before it is signed or uploaded. */
async function readManifest(file: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not JSON`);
  }
  const parsed = releaseManifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(`invalid manifest ${file}: ${describeIssues(parsed.error).join('; ')}`);
  return text;
}

function arch(value: string): ReleaseManifest['arch'] {
  const parsed = releaseArchSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('expected arm64, x64 or arm');
  return parsed.data;
}

function whole(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number from 1');
  return n;
}

function percent(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('expected 1 to 100');
  return n;
}

/** The admin API client for `--fleet` and `--token` (or $CLASSBOX_FLEET_ADMIN_TOKEN). */
function adminApi(fleet: string, token: string | undefined): AdminApiClient {
  if (!token) throw new Error('no admin token: pass --token or set CLASSBOX_FLEET_ADMIN_TOKEN');
  return new AdminApiClient(fleet, token);
}

/** The IT side of `classbox release`; the box's own `install` and `recover` are added by device/. */
export function registerReleaseCommands(program: Command): Command {
  const release = program
    .command('release')
    .description('software releases: build, sign, upload, roll out, install');

  release
    .command('keygen')
    .description('make an Ed25519 release signing key pair (the public key ships with every box)')
    .requiredOption('--out <dir>', 'folder for <name>.key.pem (secret, 0600) and <name>.pub.pem')
    .option('--name <name>', 'file name stem', 'release')
    .action(async (options: { out: string; name: string }) => {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      await mkdir(options.out, { recursive: true });
      const keyFile = join(options.out, `${options.name}.key.pem`);
      const pubFile = join(options.out, `${options.name}.pub.pem`);
      await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
        mode: 0o600,
        flag: 'wx',
      });
      await chmod(keyFile, 0o600);
      await writeFile(pubFile, publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx' });
      process.stdout.write(`${releaseKeyId(publicKey)}\n`);
      process.stderr.write(`Wrote ${keyFile} (keep it offline) and ${pubFile} (put it in the box image).\n`);
    });

  release
    .command('build')
    .description('bundle the built application and its production dependencies, and write its manifest')
    .requiredOption('--out <dir>', 'folder for the payload and the manifest')
    .option('--app <dir>', 'a built checkout (npm run build done)', packageRoot())
    .option(
      '--staged <dir>',
      'pack this already staged folder (bin/, dist/, package.json, node_modules/) as is',
    )
    .option('--release <version>', 'release version (default: package.json version)', version)
    .option('--arch <arch>', 'target architecture: arm64, x64 or arm', arch, arch(process.arch))
    .option(
      '--node-abi <n>',
      "the box runtime's process.versions.modules",
      whole,
      Number(process.versions.modules),
    )
    .option('--min-os <version>', 'oldest OS VERSION_ID it runs on', '12')
    .option(
      '--allow-rollback',
      'a deliberate rollback: boxes that ran a newer version take this one (the signature covers it)',
    )
    .action(
      async (options: {
        out: string;
        app: string;
        staged?: string;
        release?: string;
        arch: ReleaseManifest['arch'];
        nodeAbi: number;
        minOs: string;
        allowRollback?: boolean;
      }) => {
        const from = options.staged ?? options.app;
        let releaseVersionValue = options.release;
        if (releaseVersionValue === undefined) {
          const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as { version: string };
          try {
            releaseVersionValue = version(pkg.version);
          } catch (error) {
            return fail('build', `package.json version "${pkg.version}": ${reason(error)}`);
          }
        }
        try {
          const built = await buildRelease({
            appDir: options.app,
            stagedDir: options.staged,
            outDir: options.out,
            version: releaseVersionValue,
            arch: options.arch,
            nodeAbi: options.nodeAbi,
            minOsVersion: options.minOs,
            allowRollback: options.allowRollback === true,
            now: new Date(),
          });
          process.stdout.write(`${built.manifestFile}\n${built.payloadFile}\n`);
        } catch (error) {
          fail('build', reason(error), 1);
        }
      },
    );

  release
    .command('sign')
    .description('sign a manifest with an Ed25519 key; writes <manifest>.sig')
    .requiredOption('--key <file>', 'private key PEM (from release keygen)')
    .requiredOption('--manifest <file>', 'manifest written by release build')
    .action(async (options: { key: string; manifest: string }) => {
      try {
        const signature = signManifest(
          await readManifest(options.manifest),
          await readFile(options.key, 'utf8'),
        );
        await writeFile(`${options.manifest}.sig`, `${JSON.stringify(signature)}\n`);
        process.stdout.write(`${options.manifest}.sig\n`);
      } catch (error) {
        fail('sign', reason(error));
      }
    });

  release
    .command('upload')
    .description('register a signed release on the fleet server and upload its payload')
    .requiredOption('--fleet <url>', 'fleet server URL')
    .option(
      '--token <token>',
      'admin token ($CLASSBOX_FLEET_ADMIN_TOKEN)',
      process.env.CLASSBOX_FLEET_ADMIN_TOKEN,
    )
    .requiredOption('--manifest <file>', 'manifest (its .sig beside it)')
    .requiredOption('--payload <file>', 'payload tar.gz')
    .action(async (options: { fleet: string; token?: string; manifest: string; payload: string }) => {
      try {
        const manifest = await readManifest(options.manifest);
        const signature = await readReleaseSignatureFile(`${options.manifest}.sig`);
        const api = adminApi(options.fleet, options.token);
        const created = await api.createRelease(manifest, signature);
        const { createReadStream } = await import('node:fs');
        const { Readable } = await import('node:stream');
        await api.uploadPayload(
          created.version,
          Readable.toWeb(createReadStream(options.payload)) as ReadableStream,
        );
        process.stdout.write(`${created.version}\n`);
      } catch (error) {
        fail('upload', reason(error), 1);
      }
    });

  release
    .command('rollout')
    .description('offer a release to a channel, a centre or one device, to a share of them first')
    .requiredOption('--fleet <url>', 'fleet server URL')
    .option(
      '--token <token>',
      'admin token ($CLASSBOX_FLEET_ADMIN_TOKEN)',
      process.env.CLASSBOX_FLEET_ADMIN_TOKEN,
    )
    .requiredOption('--release <version>', 'the release version', version)
    .option('--channel <name>', 'e.g. pilot or stable')
    .option('--centre <id>', 'one centre')
    .option('--device <id>', 'one box')
    .option('--percent <n>', 'share of the target boxes (raise to 100 later)', percent, 100)
    .option('--force', 'roll out a version older than one already rolled out to that target')
    .action(
      async (options: {
        fleet: string;
        token?: string;
        release: string;
        channel?: string;
        centre?: string;
        device?: string;
        percent: number;
        force?: boolean;
      }) => {
        try {
          const rollout = await adminApi(options.fleet, options.token).createRollout(options.release, {
            channel: options.channel,
            centre: options.centre,
            device: options.device,
            percent: options.percent,
            force: options.force === true,
          });
          process.stdout.write(`${JSON.stringify(rollout)}\n`);
        } catch (error) {
          fail('rollout', reason(error), 1);
        }
      },
    );

  return release;
}
