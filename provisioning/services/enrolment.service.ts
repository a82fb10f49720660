import { Injectable } from '@nestjs/common';
import { createPublicKey } from 'node:crypto';
import {
  enrolmentSeedSchema,
  type EnrolmentSeed,
  type EnrolRequest,
  type EnrolResponse,
} from '../../common/fleet-protocol.js';
import { createLogger } from '../../common/logger.js';
import { FleetApiError, badRequest } from '../fleet-errors.js';
import type { MintTokens } from '../protocol/admin-api.schema.js';
import { FleetRepository } from '../repositories/fleet.repository.js';
import { CentresService } from './centres.service.js';
import { DesiredConfigService } from './desired-config.service.js';
import { FleetClock, FleetOptions } from './fleet-options.js';
import { hashToken, newToken } from './secrets.js';

export interface MintedToken {
  deviceId: string;
  token: string;
  expiresAt: string;
  seed: EnrolmentSeed;
}

export interface TokenView {
  deviceId: string;
  displayName: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  status: 'unused' | 'used' | 'expired';
}

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
    const taken = input.deviceIds ? await this.repo.deviceIdsTaken(ids) : new Set<string>();
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
      });
      if (!seed.success)
        throw badRequest(`can't write an enrolment seed: the fleet URL "${fleetUrl}" is not http(s)`);
      return { deviceId, token, expiresAt, seed: seed.data };
    });
    // Re-minting for an existing id is how IT re-enrols a re-flashed box; it is logged as such.
    for (const id of taken) this.log.info(`Minted token for an existing device device=${id}`);
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
      deviceId: row.device_id,
      displayName: row.display_name,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      usedAt: row.used_at,
      status: row.used_at !== null ? 'used' : row.expires_at <= now ? 'expired' : 'unused',
    }));
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
    if (row.used_at !== null)
      throw new FleetApiError(
        401,
        'E-TOKEN-USED',
        'the enrolment token was used already; ask IT for a new one',
      );
    if (row.expires_at <= now)
      throw new FleetApiError(401, 'E-TOKEN-EXPIRED', `the enrolment token expired at ${row.expires_at}`);
    const outcome = await this.repo.enrol(tokenHash, now, {
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
    });
    if (outcome === 'spent')
      throw new FleetApiError(
        401,
        'E-TOKEN-USED',
        'the enrolment token was used already; ask IT for a new one',
      );
    this.log.info(`Enrolled device device=${row.device_id} centre=${row.centre_id}`);
    const { config, etag } = await this.desired.forDevice(row.device_id);
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

function assertEd25519(pem: string): void {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType === 'ed25519') return;
  } catch {
    // falls through to the refusal below
  }
  throw badRequest('invalid enrolment: publicKey must be an Ed25519 public key in SPKI PEM form');
}
