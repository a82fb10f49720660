import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { canonicalRequest, DEVICE_ID } from '../../common/fleet-protocol.js';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { GroupCommit } from '../domain/group-commit.js';
import { FleetApiError } from '../fleet-errors.js';
import {
  DeviceHotPathRepository,
  type NonceRecord,
  type SignedDeviceRow,
} from '../repositories/device-hot-path.repository.js';
import { FleetRepository } from '../repositories/fleet.repository.js';
import { FleetClock, FleetOptions } from './fleet-options.js';

export interface SignedRequest {
  method: string;
  /** Path and query exactly as requested. */
  url: string;
  deviceId?: string;
  timestamp?: string;
  nonce?: string;
  signature?: string;
  body: Buffer | undefined;
}

/** A verified request's device, as read for it, and the time it was signed at (the box's clock). */
export interface SignedDevice {
  row: SignedDeviceRow;
  signedAtMs: number;
  /**
   * The request's nonce when the route stores it with its own write (`verifyStoringNonceLater`); that
   * route must refuse the request as a replay if the nonce is not new. Absent: already remembered.
   */
  nonceToStore?: NonceRecord;
}

const NONCE_SWEEP_MS = 60_000;
const BAD_SIGNATURE = 'the request signature does not match the device key';
/** Nonces per transaction at most; under load a batch holds what arrived during the previous one. */
const MAX_NONCE_BATCH = 512;

/**
 * Checks a device request: signed by the key the device enrolled with, over method, path,
 * timestamp, nonce and body hash; within the clock-skew window; never seen before.
 *
 * Replay protection lives in the database's unique key on (device, nonce), so it holds across a
 * restart and across replicas; the nonces of concurrent requests are inserted together in one
 * transaction (group commit), and a request is answered only once its nonce is committed. The
 * heartbeat stores its nonce in its own write's transaction instead (`verifyStoringNonceLater`).
 */
@Injectable()
export class RequestSignatureService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = createLogger(RequestSignatureService.name);
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly nonces: GroupCommit<NonceRecord, boolean>;

  constructor(
    private readonly repo: FleetRepository,
    private readonly hotPath: DeviceHotPathRepository,
    private readonly clock: FleetClock,
    private readonly options: FleetOptions,
  ) {
    this.nonces = new GroupCommit((items) => hotPath.rememberNonces(items), MAX_NONCE_BATCH, setImmediate);
  }

  onModuleInit(): void {
    this.sweepTimer = setInterval(() => void this.sweep(), NONCE_SWEEP_MS);
    this.sweepTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
  }

  /** Returns the verified device, or throws a 401 naming what was wrong (a replay included). */
  async verify(request: SignedRequest): Promise<SignedDevice> {
    const signed = await this.verifyStoringNonceLater(request);
    if (!(await this.nonces.submit(signed.nonceToStore!))) throw replayed();
    return { row: signed.row, signedAtMs: signed.signedAtMs };
  }

  /**
   * As `verify`, but the nonce is left for the route to store in its own write's transaction (the
   * heartbeat: one write instead of two, issue 17); the route refuses the request if it is not new.
   */
  async verifyStoringNonceLater(request: SignedRequest): Promise<Required<SignedDevice>> {
    const { deviceId, timestamp, nonce, signature } = request;
    if (!deviceId || !timestamp || !nonce || !signature) {
      throw new FleetApiError(
        401,
        'E-SIGNATURE-MISSING',
        'device requests must be signed (x-classbox-device, -timestamp, -nonce, -signature)',
      );
    }
    if (!DEVICE_ID.test(deviceId) || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce) || !/^\d{1,15}$/.test(timestamp)) {
      throw new FleetApiError(401, 'E-SIGNATURE-BAD', 'malformed signature headers');
    }
    const nowMs = this.clock.now().getTime();
    const skewMs = Math.abs(nowMs - Number(timestamp));
    if (skewMs > this.options.clockSkewSec * 1000) {
      throw new FleetApiError(
        401,
        'E-CLOCK-SKEW',
        `the device clock is ${Math.round(skewMs / 1000)} s off the server's (at most ${this.options.clockSkewSec} s allowed)`,
      );
    }
    const device = await this.hotPath.findSignedDevice(deviceId);
    // Answered like a bad signature: an unsigned request must not learn which device ids exist.
    if (!device) throw new FleetApiError(401, 'E-SIGNATURE-BAD', BAD_SIGNATURE);
    const bodyHash = createHash('sha256')
      .update(request.body ?? Buffer.alloc(0))
      .digest('hex');
    const message = canonicalRequest({
      method: request.method,
      path: request.url,
      timestamp,
      nonce,
      bodySha256Hex: bodyHash,
    });
    let valid = false;
    try {
      valid = await verifyOffThread(
        Buffer.from(message, 'utf8'),
        publicKeyOf(device.public_key),
        Buffer.from(signature, 'base64'),
      );
    } catch (error) {
      this.log.warn(`Can't verify signature device=${deviceId}: ${reason(error)}`);
    }
    if (!valid) throw new FleetApiError(401, 'E-SIGNATURE-BAD', BAD_SIGNATURE);
    return {
      row: device,
      signedAtMs: Number(timestamp),
      nonceToStore: { deviceId, nonce, seenAt: new Date(nowMs).toISOString() },
    };
  }

  /** Nonces older than the skew window can't be replayed anyway (their timestamp is refused). */
  private async sweep(): Promise<void> {
    const before = new Date(this.clock.now().getTime() - 2 * this.options.clockSkewSec * 1000).toISOString();
    await this.repo
      .forgetNoncesBefore(before)
      .catch((error: unknown) => this.log.warn(`Can't forget old nonces: ${reason(error)}`));
  }
}

/** The answer to a request whose nonce was seen before, on this server or any replica. */
export function replayed(): FleetApiError {
  return new FleetApiError(401, 'E-REPLAY', 'this request was sent before (replays are refused)');
}

/**
 * Ed25519 verification in libuv's thread pool (the callback form of `crypto.verify`): it was the
 * largest part of a heartbeat's CPU time on the event loop (~0.1–0.2 ms each), and there it keeps
 * the server's other cores busy instead of queueing requests behind it.
 */
function verifyOffThread(message: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve, reject) =>
    verify(null, message, key, signature, (error, valid) => (error ? reject(error) : resolve(valid))),
  );
}

/** Parsed device keys by PEM: parsing one per request was a tenth of the server's time (bench). */
const keys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 50_000;
/** The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 key bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function publicKeyOf(pem: string): KeyObject {
  let key = keys.get(pem);
  if (!key) {
    key = parsePublicKey(pem);
    if (keys.size >= MAX_CACHED_KEYS) keys.delete(keys.keys().next().value!);
    keys.set(pem, key);
  }
  return key;
}

/**
 * An Ed25519 key is imported from its raw bytes (as a JWK): ~25 µs, where OpenSSL 3's PEM decoder
 * takes ~215 µs (measured here) — a fleet server meets every box's key anew after a restart.
 */
function parsePublicKey(pem: string): KeyObject {
  const der = Buffer.from(pem.replace(/-----(BEGIN|END) PUBLIC KEY-----|\s/g, ''), 'base64');
  if (der.length === 44 && der.subarray(0, 12).equals(ED25519_SPKI_PREFIX)) {
    return createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: der.subarray(12).toString('base64url') },
      format: 'jwk',
    });
  }
  return createPublicKey(pem);
}
