import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { canonicalRequest, SIGNATURE_HEADERS } from '../../common/fleet-protocol.js';
import { FleetClock } from '../../provisioning/services/fleet-options.js';

/** Server time the tests move forward (to expire tokens) without waiting. */
export class SteppedFleetClock extends FleetClock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

/** A device as the API tests see it: a key pair and a way to sign requests, correctly or not. */
export interface TestDevice {
  readonly publicKeyPem: string;
  readonly privateKey: KeyObject;
}

export function newTestDevice(): TestDevice {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
}

export interface SignOptions {
  /** The id put in the header (defaults to the one in the path). */
  as: string;
  timestampMs?: number;
  nonce?: string;
  /** Sign this body but send `body` (a tampered request). */
  signedBody?: string;
}

export function signedHeaders(
  device: TestDevice,
  method: string,
  path: string,
  body: string,
  options: SignOptions,
): Record<string, string> {
  const timestamp = String(options.timestampMs ?? Date.now());
  const nonce = options.nonce ?? randomBytes(16).toString('base64url');
  const bodySha256Hex = createHash('sha256')
    .update(options.signedBody ?? body)
    .digest('hex');
  const signature = sign(
    null,
    Buffer.from(canonicalRequest({ method, path, timestamp, nonce, bodySha256Hex })),
    device.privateKey,
  );
  return {
    [SIGNATURE_HEADERS.device]: options.as,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: signature.toString('base64'),
    ...(body ? { 'content-type': 'application/json' } : {}),
  };
}
