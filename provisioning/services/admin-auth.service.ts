import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../common/logger.js';
import { FailureWindow } from '../domain/failure-window.js';
import { FleetApiError } from '../fleet-errors.js';
import { FleetRepository, type AdminRow } from '../repositories/fleet.repository.js';
import { FleetClock, FleetOptions } from './fleet-options.js';
import { hashToken, newToken } from './secrets.js';
import type { AdminView } from '../protocol/admin-views.schema.js';
export type { AdminView };

export const ADMIN_TOKEN_PREFIX = 'cbx_admin_';
const GENERATED_ADMIN_TOKEN = /^cbx_admin_[A-Za-z0-9_-]{32}$/;

/** A fresh admin credential: 192 random bits in the form the server accepts. */
export function generateAdminToken(): string {
  return newToken(ADMIN_TOKEN_PREFIX);
}

/**
 * Why a chosen admin credential is refused, or undefined. Only the generated form is taken
 * (192 random bits). The form alone can't prove randomness, so a body with few distinct
 * characters (a typed pattern such as "aaaa…" or "abab…") is refused too: 32 random
 * characters of 64 show about 25 distinct ones, and fewer than 16 happens by chance far less
 * than once in a million.
 */
export function adminTokenWeakness(token: string): string | undefined {
  const hint = 'generate one with `classbox fleet admin new-token`';
  if (!GENERATED_ADMIN_TOKEN.test(token))
    return `an admin credential must be "cbx_admin_" followed by 32 random base64url characters; ${hint}`;
  if (new Set(token.slice(ADMIN_TOKEN_PREFIX.length)).size < 16)
    return `the admin credential is not random (too few distinct characters); ${hint}`;
  return undefined;
}

/**
 * Admin credentials: bearer tokens, stored hashed, shown once; they can expire and be revoked.
 * Failed sign-ins are counted per client address: past the limit the address gets 429s until
 * its window ends (per replica: each replica counts its own).
 */
@Injectable()
export class AdminAuthService {
  private readonly log = createLogger(AdminAuthService.name);
  private readonly failures: FailureWindow;

  constructor(
    private readonly repo: FleetRepository,
    private readonly clock: FleetClock,
    private readonly options: FleetOptions,
  ) {
    this.failures = new FailureWindow(options.adminFailureLimit, options.adminFailureWindowSec * 1000);
  }

  /** Create an admin; returns the bearer token (the only time it exists in clear). */
  async create(name: string, options: { token?: string; expiresInSeconds?: number } = {}): Promise<string> {
    const token = options.token ?? generateAdminToken();
    const weakness = adminTokenWeakness(token);
    if (weakness) throw new FleetApiError(400, 'E-AUTH-WEAK', weakness);
    const now = this.clock.now();
    const inserted = await this.repo.insertAdmin({
      id: randomUUID(),
      name,
      token_hash: hashToken(token),
      created_at: now.toISOString(),
      expires_at:
        options.expiresInSeconds === undefined
          ? null
          : new Date(now.getTime() + options.expiresInSeconds * 1000).toISOString(),
      revoked_at: null,
    });
    if (!inserted)
      throw new FleetApiError(
        409,
        'E-CONFLICT',
        `an admin named "${name}" (or with that token) exists already`,
      );
    this.log.info(`Created admin name=${name}`);
    return token;
  }

  /** On first start, adopt CLASSBOX_FLEET_ADMIN_TOKEN as the first admin's credential. */
  async ensureFirstAdmin(token: string | undefined): Promise<void> {
    if (!token) return;
    if ((await this.repo.countAdmins()) > 0) return;
    await this.create('first-admin', { token });
  }

  async list(): Promise<AdminView[]> {
    const now = this.clock.now().toISOString();
    return (await this.repo.listAdmins()).map((row) => ({
      name: row.name,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      status: row.revoked_at !== null ? 'revoked' : isExpired(row, now) ? 'expired' : 'active',
    }));
  }

  async revoke(name: string): Promise<void> {
    if (!(await this.repo.revokeAdmin(name, this.clock.now().toISOString())))
      throw new FleetApiError(404, 'E-NOT-FOUND', `no active admin credential named "${name}"`);
    this.log.warn(`Revoked admin name=${name}`);
  }

  /** The admin behind an `Authorization` header; `client` is the caller's address. */
  async verify(authorization: string | undefined, client: string): Promise<AdminRow> {
    const nowMs = this.clock.now().getTime();
    const wait = this.failures.blockedFor(client, nowMs);
    if (wait !== undefined)
      throw new FleetApiError(
        429,
        'E-AUTH-LOCKED',
        `too many failed admin sign-ins from this address; try again in ${wait} s`,
      );
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match?.[1])
      throw new FleetApiError(
        401,
        'E-AUTH-MISSING',
        'send an admin credential: Authorization: Bearer <token>',
      );
    const admin = await this.repo.findAdminByTokenHash(hashToken(match[1]));
    const now = new Date(nowMs).toISOString();
    if (!admin || admin.revoked_at !== null || isExpired(admin, now)) {
      const count = this.failures.fail(client, nowMs);
      const why = !admin ? 'unknown' : admin.revoked_at !== null ? 'revoked' : 'expired';
      this.log.warn(
        `Refused admin credential client=${client} reason=${why}${admin ? ` admin=${admin.name}` : ''} failures=${count}`,
      );
      if (admin && admin.revoked_at === null)
        throw new FleetApiError(401, 'E-AUTH-EXPIRED', `the admin credential expired at ${admin.expires_at}`);
      throw new FleetApiError(401, 'E-AUTH-BAD', 'the admin credential is not valid');
    }
    return admin;
  }
}

function isExpired(row: AdminRow, now: string): boolean {
  return row.expires_at !== null && row.expires_at <= now;
}
