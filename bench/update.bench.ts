import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signManifest, type ReleaseManifest } from '../common/release-manifest.js';
import { FsReleaseFiles } from '../device/adapters/release-files.fs.js';
import { FsUpdateState } from '../device/adapters/update-state.fs.js';
import { ReleaseInstaller } from '../device/services/release-installer.js';
import { buildRelease } from '../provisioning/adapters/release-bundle.fs.js';
import type { BenchContext, Figure } from './figure.js';
import { figureOf } from './lib/figures.js';

const TARGET_S = 5;
const PAYLOAD_MB = 50;

/**
 * Verify + unpack + switch of a real 50 MB release (built and signed by the release code,
 * incompressible content so the payload really is 50 MB), against `tar -xzf` of the same
 * payload measured in the same run. The download is left out: it is placed in the download
 * slot first, as after a finished download.
 */
export async function measure(ctx: BenchContext): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'classbox-update-bench-'));
  try {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const keysDir = join(dir, 'keys');
    mkdirSync(keysDir);
    writeFileSync(join(keysDir, 'release.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const stage = join(dir, 'stage');
    // Shaped like the application: a few large files (the bundled data) and many small ones (node_modules).
    for (let i = 0; i < 40; i++) {
      mkdirSync(join(stage, 'dist', `part-${i}`), { recursive: true });
      writeFileSync(
        join(stage, 'dist', `part-${i}`, 'blob.bin'),
        randomBytes(((PAYLOAD_MB - 4) * 1024 * 1024) / 40),
      );
    }
    for (let i = 0; i < 2000; i++) {
      const pkg = join(stage, 'node_modules', `pkg-${Math.floor(i / 10)}`);
      mkdirSync(pkg, { recursive: true });
      writeFileSync(join(pkg, `file-${i % 10}.js`), randomBytes(2048).toString('base64'));
    }
    mkdirSync(join(stage, 'bin'));
    writeFileSync(join(stage, 'bin', 'classbox.js'), 'console.log("bench");\n');
    writeFileSync(join(stage, 'package.json'), '{"name":"classbox","version":"9.0.0"}');
    const built = await buildRelease({
      appDir: stage,
      stagedDir: stage,
      outDir: join(dir, 'out'),
      version: '9.0.0',
      arch: process.arch as ReleaseManifest['arch'],
      nodeAbi: Number(process.versions.modules),
      minOsVersion: '1',
      now: new Date(),
    });
    const manifestText = readFileSync(built.manifestFile, 'utf8');
    const signature = signManifest(
      manifestText,
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    const sizeMb = built.manifest.payload.size / 1024 / 1024;
    ctx.log(
      `update bench: payload ${sizeMb.toFixed(1)} MB, ${built.manifest.payload.unpackedSize} bytes unpacked`,
    );

    const runs = ctx.smoke ? 2 : 7;
    const ours: number[] = [];
    const anchor: number[] = [];
    for (let run = 0; run < runs; run++) {
      const root = join(dir, `root-${run}`);
      const state = join(dir, `state-${run}`);
      mkdirSync(join(root, 'downloads'), { recursive: true });
      copyFileSync(built.payloadFile, join(root, 'downloads', '9.0.0.tar.gz'));
      const installer = new ReleaseInstaller(
        new FsReleaseFiles({ root, trustedKeysDir: keysDir }),
        undefined,
        new FsUpdateState(state),
        {
          healthTimeoutMs: 60_000,
          maxTrialStarts: 3,
          marginBytes: 0,
          now: Date.now,
          checkpoint: () => undefined,
        },
      );
      const started = performance.now();
      const record = await installer.begin({
        version: '9.0.0',
        manifest: manifestText,
        signature,
        source: { kind: 'file', path: built.payloadFile },
      });
      await installer.continue(record, undefined);
      ours.push((performance.now() - started) / 1000);

      const target = join(dir, `tar-${run}`);
      mkdirSync(target);
      const tarStarted = performance.now();
      const tar = spawnSync('tar', ['-xzf', built.payloadFile, '-C', target]);
      if (tar.status !== 0) throw new Error(`tar -xzf failed: ${tar.stderr.toString()}`);
      anchor.push((performance.now() - tarStarted) / 1000);
      rmSync(root, { recursive: true, force: true });
      rmSync(target, { recursive: true, force: true });
    }
    return [
      figureOf({
        name: `verify + unpack + switch of a ${Math.round(sizeMb)} MB release`,
        unit: 's',
        samples: ours,
        anchor: 'tar -xzf of the same payload',
        anchorSamples: anchor,
        target: `≤ ${TARGET_S} s`,
        meets: (f) => f.value <= TARGET_S,
        notes:
          'signature check, SHA-256 of the payload, tar unpack to a temp folder, sync -f, rename, trial record, ' +
          'atomic link switch; the download is not included (payload already in the download slot)',
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
