import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signManifest, type ReleaseManifest } from '../../common/release-manifest.js';
import { buildRelease } from '../../provisioning/adapters/release-bundle.fs.js';

export interface TestKeys {
  /** A folder holding the trusted public key, as on a box. */
  readonly keysDir: string;
  readonly privateKeyPem: string;
}

export function makeKeys(dir: string, name = 'release'): TestKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const keysDir = join(dir, `${name}-keys`);
  mkdirSync(keysDir, { recursive: true });
  writeFileSync(join(keysDir, `${name}.pub.pem`), publicKey.export({ type: 'spki', format: 'pem' }));
  return { keysDir, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export interface TestRelease {
  readonly version: string;
  readonly manifestFile: string;
  readonly payloadFile: string;
  readonly manifestText: string;
  readonly signature: { keyId: string; signature: string };
  readonly manifest: ReleaseManifest;
}

/**
 * A real release of a tiny application (bin/classbox printing its version, dist/, a module in
 * node_modules), packed and signed by the same code as `classbox release build` / `sign`.
 */
export async function makeRelease(
  dir: string,
  version: string,
  keys: TestKeys,
  options: {
    arch?: ReleaseManifest['arch'];
    nodeAbi?: number;
    extraBytes?: number;
    /** A deliberate, signed rollback. */
    allowRollback?: boolean;
  } = {},
): Promise<TestRelease> {
  const stage = join(dir, `stage-${version}${options.allowRollback ? '-rollback' : ''}`);
  mkdirSync(join(stage, 'bin'), { recursive: true });
  mkdirSync(join(stage, 'dist'), { recursive: true });
  mkdirSync(join(stage, 'node_modules', 'left-pad'), { recursive: true });
  writeFileSync(join(stage, 'package.json'), JSON.stringify({ name: 'classbox', version }));
  writeFileSync(join(stage, 'bin', 'classbox.js'), `console.log(${JSON.stringify(version)});\n`);
  writeFileSync(join(stage, 'dist', 'app.txt'), `the application of ${version}\n`);
  writeFileSync(join(stage, 'node_modules', 'left-pad', 'package.json'), '{"name":"left-pad"}');
  if (options.extraBytes) writeFileSync(join(stage, 'dist', 'bulk.bin'), Buffer.alloc(options.extraBytes, 7));
  const built = await buildRelease({
    appDir: stage,
    stagedDir: stage,
    outDir: join(dir, options.allowRollback ? 'out-rollback' : 'out'),
    version,
    arch: options.arch ?? (process.arch as ReleaseManifest['arch']),
    nodeAbi: options.nodeAbi ?? Number(process.versions.modules),
    minOsVersion: '11',
    allowRollback: options.allowRollback,
    now: new Date(),
  });
  const manifestText = readFileSync(built.manifestFile, 'utf8');
  const signature = signManifest(manifestText, keys.privateKeyPem);
  writeFileSync(`${built.manifestFile}.sig`, JSON.stringify(signature));
  return { version, ...built, manifestText, signature };
}

/** An os-release file saying Debian 12, so the tests don't depend on the machine's. */
export function writeOsRelease(dir: string): string {
  const file = join(dir, 'os-release');
  writeFileSync(file, 'ID=debian\nVERSION_ID="12"\n');
  return file;
}
