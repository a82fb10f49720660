import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';

/**
 * The release public keys the fleet server trusts: a folder of `*.pem` (as on a box, e.g. a
 * copy of /etc/classbox/release-keys) or one PEM file. Every key must be an Ed25519 public key.
 */
export async function readReleaseKeys(location: string): Promise<string[]> {
  const files = (await stat(location)).isDirectory()
    ? (await readdir(location))
        .filter((n) => n.endsWith('.pem'))
        .sort()
        .map((n) => join(location, n))
    : [location];
  const keys: string[] = [];
  for (const file of files) {
    const pem = await readFile(file, 'utf8');
    let type: string | undefined;
    try {
      const key = createPublicKey(pem);
      type = key.type === 'public' ? key.asymmetricKeyType : undefined;
    } catch {
      type = undefined;
    }
    // A private key would parse too (its public half): refuse it, it has no place on the server.
    if (type !== 'ed25519' || !pem.includes('BEGIN PUBLIC KEY'))
      throw new Error(`${file} is not an Ed25519 public key (PEM)`);
    keys.push(pem);
  }
  if (keys.length === 0) throw new Error(`no *.pem release public key in ${location}`);
  return keys;
}
