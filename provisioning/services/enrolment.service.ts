import { Injectable } from '@nestjs/common';
import { createHash, createPublicKey } from 'node:crypto';
import {
  enrolmentSeedSchema,
  insecureFleetUrlMessage,
  isInsecureFleetUrl,
  type EnrolRequest,
  type EnrolResponse,
} from '../../common/fleet-protocol.js';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { FleetApiError, badRequest, notFound } from '../fleet-errors.js';
import type { MintTokens } from '../protocol/admin-api.schema.js';
import { FleetRepository } from '../repositories/fleet.repository.js';
import { CentresService } from './centres.service.js';
import { DesiredConfigService, desiredConfigFor } from './desired-config.service.js';
import { FleetClock, FleetOptions } from './fleet-options.js';
import { hashToken, newToken } from './secrets.js';
import type { MintedToken, TokenView } from '../protocol/admin-views.schema.js';
export type { MintedToken, TokenView };

export const ENROL_TOKEN_PREFIX = 'cbx_enrol_';

/** Single-use, expiring enrolment tokens scoped to a centre, and enrolment itself. */
@Injectable()
export class EnrolmentService {
  private readonly log = createLogger(EnrolmentService.name);

  constructor(
    private readonly repo: FleetRepository,
    private readonly centres: CentresService,
    private readonly desired: DesiredConfigService,
    private readonly clock: FleetClock,
    private readonly options: FleetOptions,
  ) {}

  async mint(centreId: string, input: MintTokens, fleetUrl = this.options.publicUrl): Promise<MintedToken[]> {
    const centre = await this.centres.row(centreId);
    const ids = input.deviceIds ?? (await this.nextDeviceIds(centreId, input.count));
    const taken = input.deviceIds ? await this.checkIdsForMinting(centreId, ids, input.reenrol) : [];
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + input.expiresInSeconds * 1000).toISOString();
    const tokens = ids.map((deviceId, i) => {
      const displayName =
        input.displayNames?.[i] ?? (ids.length === 1 ? centre.name : `${centre.name} ${i + 1}`);
      const token = newToken(ENROL_TOKEN_PREFIX);
      // Checked against the contract so a bad public URL is a 400 now, not a box that can't enrol later.
      const seed = enrolmentSeedSchema.safeParse({
        fleetUrl,
        token,
        deviceId,
        centreId,
        displayName,
        expiresAt,
        ...(this.options.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
      });
      if (!seed.success)
        throw badRequest(
          isInsecureFleetUrl(fleetUrl)
            ? `can't write an enrolment seed for "${fleetUrl}": ${insecureFleetUrlMessage('--allow-insecure-http on the fleet server')}`
            : `can't write an enrolment seed: the fleet URL "${fleetUrl}" is not http(s)`,
        );
      return { deviceId, token, expiresAt, seed: seed.data };
    });
    // Re-minting for an enrolled id (with reenrol) is how IT re-enrols a re-flashed box.
    for (const id of taken) this.log.warn(`Minted re-enrolment token for an enrolled device device=${id}`);
    await this.repo.insertTokens(
      tokens.map((t) => ({
        token_hash: hashToken(t.token),
        centre_id: centreId,
        device_id: t.deviceId,
        display_name: t.seed.displayName,
        expires_at: t.expiresAt,
        created_at: now.toISOString(),
        used_at: null,
      })),
    );
    this.log.info(`Minted enrolment tokens centre=${centreId} count=${tokens.length} expiresAt=${expiresAt}`);
    return tokens;
  }

  async list(centreId: string): Promise<TokenView[]> {
    await this.centres.row(centreId);
    const now = this.clock.now().toISOString();
    return (await this.repo.listTokens(centreId)).map((row) => ({
      id: row.token_hash.slice(0, 16),
      deviceId: row.device_id,
      displayName: row.display_name,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      usedAt: row.used_at,
      revokedAt: row.revoked_at,
      status:
        row.used_at !== null
          ? 'used'
          : row.revoked_at !== null
            ? 'revoked'
            : row.expires_at <= now
              ? 'expired'
              : 'unused',
    }));
  }

  /** Revoke an unused token (`id` from the list): a box holding it can no longer enrol. */
  async revoke(centreId: string, tokenId: string): Promise<void> {
    await this.centres.row(centreId);
    const result = /^[0-9a-f]{16}$/.test(tokenId)
      ? await this.repo.revokeToken(centreId, tokenId, this.clock.now().toISOString())
      : 'unknown';
    if (result === 'unknown') throw notFound('enrolment token', tokenId);
    if (result === 'closed')
      throw new FleetApiError(409, 'E-TOKEN-CLOSED', `token ${tokenId} was used or revoked already`);
    this.log.info(`Revoked enrolment token centre=${centreId} token=${tokenId}`);
  }

  /**
   * Ids of another centre are refused; an enrolled id needs `reenrol` (a re-flashed box):
   * a token for an enrolled id can replace that box's key. Returns the enrolled ids.
   */
  private async checkIdsForMinting(
    centreId: string,
    ids: readonly string[],
    reenrol: boolean,
  ): Promise<string[]> {
    const owners = await this.repo.deviceIdOwners(ids, this.clock.now().toISOString());
    const foreign = owners.find((o) => o.centre_id !== centreId);
    if (foreign) {
      throw new FleetApiError(
        409,
        'E-DEVICE-OTHER-CENTRE',
        `device "${foreign.id}" belongs to centre "${foreign.centre_id}"${foreign.kind === 'token' ? ' (an open enrolment token)' : ''}; mint its tokens there`,
      );
    }
    const enrolled = [...new Set(owners.filter((o) => o.kind === 'device').map((o) => o.id))];
    if (enrolled.length > 0 && !reenrol) {
      throw new FleetApiError(
        409,
        'E-DEVICE-ENROLLED',
        `device ${enrolled.map((id) => `"${id}"`).join(', ')} is enrolled already; a token for it replaces the box's key. To re-enrol a re-flashed box, ask for it explicitly: reenrol: true (CLI --reenrol, the dashboard's re-enrol box)`,
      );
    }
    return enrolled;
  }

  async enrol(input: EnrolRequest): Promise<EnrolResponse> {
    assertEd25519(input.publicKey);
    const tokenHash = hashToken(input.token);
    const row = await this.repo.findToken(tokenHash);
    const now = this.clock.now().toISOString();
    if (!row)
      throw new FleetApiError(
        401,
        'E-TOKEN-UNKNOWN',
        'the enrolment token is not known to this fleet server',
      );
    if (row.revoked_at !== null)
      throw new FleetApiError(
        401,
        'E-TOKEN-REVOKED',
        'the enrolment token was revoked; ask IT for a new one',
      );
    if (row.used_at !== null)
      throw new FleetApiError(
        401,
        'E-TOKEN-USED',
        'the enrolment token was used already; ask IT for a new one',
      );
    if (row.expires_at <= now)
      throw new FleetApiError(401, 'E-TOKEN-EXPIRED', `the enrolment token expired at ${row.expires_at}`);
    // Read before the transaction: a class moved meanwhile reaches the box by its first heartbeat's ETag.
    const placementUrls = await this.repo.placementUrls(row.centre_id);
    const result = await this.repo.enrol(
      tokenHash,
      now,
      {
        id: row.device_id,
        centre_id: row.centre_id,
        display_name: row.display_name,
        public_key: input.publicKey,
        state: null,
        error_code: null,
        last_seen_at: null,
        version: input.version ?? null,
        health_json: null,
        vitals_json: null,
        enrolled_at: now,
        updated_at: now,
      },
      // Inside the transaction, before the token is spent: a centre whose settings can't make a
      // config refuses the enrolment and leaves the token usable once IT has fixed the centre.
      (centre, previous) => {
        if (previous && previous.centre_id !== row.centre_id) {
          throw new FleetApiError(
            409,
            'E-DEVICE-OTHER-CENTRE',
            `device "${row.device_id}" belongs to another centre; this token can't enrol it`,
          );
        }
        try {
          return desiredConfigFor(centre, row.display_name, placementUrls);
        } catch (error) {
          this.log.error(
            `Can't build the config of device=${row.device_id} centre=${centre.id}: ${reason(error)}`,
          );
          throw new FleetApiError(
            409,
            'E-CENTRE-INVALID',
            `the settings of centre "${centre.id}" are invalid, so the box can't be configured; IT must fix the centre (the token stays valid)`,
          );
        }
      },
    );
    if (result === 'spent')
      throw new FleetApiError(
        401,
        'E-TOKEN-USED',
        'the enrolment token was used already; ask IT for a new one',
      );
    if (result.previousKey !== undefined && result.previousKey !== input.publicKey) {
      this.log.warn(
        `Replaced device key device=${row.device_id} oldKey=${keyFingerprint(result.previousKey)} newKey=${keyFingerprint(input.publicKey)}`,
      );
    }
    this.log.info(
      `Enrolled device device=${row.device_id} centre=${row.centre_id} expiredTokens=${result.expiredTokens}`,
    );
    const { config, etag } = result.prepared;
    return { deviceId: row.device_id, centreId: row.centre_id, displayName: row.display_name, config, etag };
  }

  /** `<centre>-01`, `<centre>-02`, … skipping ids already enrolled or minted. */
  private async nextDeviceIds(centreId: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let n = 1; ids.length < count && n < 10_000; n += 50) {
      const batch = Array.from(
        { length: 50 },
        (_, i) => `${centreId}-${String(n + i).padStart(2, '0')}`,
      ).filter((id) => id.length <= 63);
      const taken = await this.repo.deviceIdsTaken(batch);
      ids.push(...batch.filter((id) => !taken.has(id)).slice(0, count - ids.length));
      if (batch.length === 0) break;
    }
    if (ids.length < count)
      throw badRequest(`can't name ${count} devices after centre "${centreId}"; pass deviceIds`);
    return ids;
  }
}

/** A public key's fingerprint for logs: the first 16 hex digits of the SHA-256 of its SPKI DER. */
export function keyFingerprint(pem: string): string {
  try {
    const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(der).digest('hex').slice(0, 16);
  } catch {
    return 'unparsable';
  }
}

function assertEd25519(pem: string): void {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType === 'ed25519') return;
  } catch {
    // falls through to the refusal below
  }
  throw badRequest('invalid enrolment: publicKey must be an Ed25519 public key in SPKI PEM form');
}
