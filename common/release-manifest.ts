import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import semver from 'semver';
import { z } from 'zod';

/**
 * A release of the box software: a signed manifest and a payload (a tar.gz of the built
 * application and its production dependencies). The manifest is signed as the exact bytes of
 * its file, so nothing is re-serialised between `classbox release sign` and the box.
 */

/** Also a safe file name: no build metadata (`+`), bounded parts. Semver itself is checked by `releaseVersion`. */
export const RELEASE_VERSION = /^\d{1,5}\.\d{1,5}\.\d{1,5}(-[0-9A-Za-z.-]{1,40})?$/;
const VERSION_HINT = 'expected a semantic version such as "1.4.0" or "1.4.0-pilot.2"';
export const releaseVersion = z
  .string()
  .regex(RELEASE_VERSION, VERSION_HINT)
  // The regex lets through what semver refuses (leading zeros, empty pre-release parts, "rc-1.-").
  .refine((v) => semver.valid(v) === v, VERSION_HINT);

/**
 * Release order, by semver: "1.10.0" after "1.9.0", "pilot.10" after "pilot.9", a pre-release
 * before its release. Only for versions `releaseVersion` accepted.
 */
export function compareReleaseVersions(a: string, b: string): number {
  return semver.compare(a, b);
}

/** The highest of some versions, by `compareReleaseVersions`; what is not a release version is passed over. */
export function highestReleaseVersion(versions: readonly (string | undefined | null)[]): string | undefined {
  return versions
    .filter((v): v is string => typeof v === 'string' && semver.valid(v) === v)
    .sort(compareReleaseVersions)
    .at(-1);
}

export const releaseArchSchema = z.enum(['arm64', 'x64', 'arm']);

export const releaseManifestSchema = z.strictObject({
  format: z.literal(1),
  name: z.literal('classbox'),
  version: releaseVersion,
  /** `process.arch` of the boxes it runs on. */
  arch: releaseArchSchema,
  /** `process.versions.modules` of the Node.js the native addons were built for. */
  nodeAbi: z.int().min(1).max(10_000),
  /** The oldest OS release (`VERSION_ID` of /etc/os-release, e.g. "12") it runs on. */
  minOsVersion: z.string().regex(/^\d{1,4}(\.\d{1,4}){0,2}$/, 'expected a version such as "12" or "12.5"'),
  payload: z.strictObject({
    file: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected a plain file name'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits'),
    size: z.int().positive(),
    /** Bytes once unpacked, for the free-space check. */
    unpackedSize: z.int().positive(),
  }),
  builtAt: z.iso.datetime(),
  /**
   * A deliberate rollback: boxes that ran a newer version take this one anyway. Covered by the
   * signature, so only the holder of the release key can allow a downgrade.
   */
  allowRollback: z.literal(true).optional(),
});
export type ReleaseManifest = z.output<typeof releaseManifestSchema>;

/** `<manifest>.sig`: who signed (the key id) and the Ed25519 signature over the manifest bytes. */
export const releaseSignatureSchema = z.strictObject({
  keyId: z.string().regex(/^[0-9a-f]{16}$/, 'expected a key id of 16 hex digits'),
  signature: z.base64().min(80).max(100),
});
export type ReleaseSignature = z.output<typeof releaseSignatureSchema>;

/** A key's id: the first 16 hex digits of the SHA-256 of its public key (SPKI, DER). */
export function releaseKeyId(key: KeyObject | string): string {
  const publicKey = typeof key === 'string' ? createPublicKey(key) : key;
  const der = (publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey).export({
    type: 'spki',
    format: 'der',
  });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

export function signManifest(manifestText: string, privateKeyPem: string): ReleaseSignature {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the release key is not an Ed25519 key');
  return {
    keyId: releaseKeyId(key),
    signature: sign(null, Buffer.from(manifestText, 'utf8'), key).toString('base64'),
  };
}

export type SignatureVerdict =
  | { ok: true; keyId: string }
  | { ok: false; code: 'E-UPDATE-KEY-UNKNOWN' | 'E-UPDATE-SIGNATURE'; message: string };

/** Check the signature with the keys this box trusts (public keys, SPKI PEM). */
export function verifyManifest(
  manifestText: string,
  signature: ReleaseSignature,
  trustedKeysPem: readonly string[],
): SignatureVerdict {
  const key = trustedKeysPem
    .map((pem) => createPublicKey(pem))
    .find((candidate) => releaseKeyId(candidate) === signature.keyId);
  if (!key) {
    return {
      ok: false,
      code: 'E-UPDATE-KEY-UNKNOWN',
      message: `the release is signed with key ${signature.keyId}, which this box does not trust`,
    };
  }
  let valid: boolean;
  try {
    valid = verify(null, Buffer.from(manifestText, 'utf8'), key, Buffer.from(signature.signature, 'base64'));
  } catch {
    valid = false;
  }
  return valid
    ? { ok: true, keyId: signature.keyId }
    : {
        ok: false,
        code: 'E-UPDATE-SIGNATURE',
        message: `the release manifest does not match its signature (key ${signature.keyId})`,
      };
}

/** The state of an update as a box reports it in its heartbeats. */
export const updateReportSchema = z.strictObject({
  state: z.enum([
    'waiting',
    'downloading',
    'installing',
    'restarting',
    'trial',
    'installed',
    'failed',
    'rolled-back',
  ]),
  version: z.string().max(64),
  /** 0–100 while downloading. */
  progress: z.int().min(0).max(100).optional(),
  code: z.string().max(64).optional(),
  detail: z.string().max(500).optional(),
});
export type UpdateReport = z.output<typeof updateReportSchema>;

/** What the fleet server offers a box in the heartbeat answer: the version it should run. */
export const updateOfferSchema = z.object({
  version: z.string().min(1).max(64),
  /** The manifest file's exact text (signed as is). */
  manifest: z.string().min(2).max(20_000),
  signature: z.object({ keyId: z.string(), signature: z.string() }),
  /** Device-signed GET with HTTP Range support. */
  payloadPath: z.string().startsWith('/api/v1/devices/'),
});
export type UpdateOffer = z.output<typeof updateOfferSchema>;
