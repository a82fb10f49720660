import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../common/logger.js';
import { FleetApiError } from '../fleet-errors.js';
import { FleetRepository, type AdminRow } from '../repositories/fleet.repository.js';
import { FleetClock } from './fleet-options.js';
import { hashToken, newToken } from './secrets.js';

export const ADMIN_TOKEN_PREFIX = 'cbx_admin_';

/** Admin credentials: bearer tokens, stored hashed, shown once. */
@Injectable()
export class AdminAuthService {
  private readonly log = createLogger(AdminAuthService.name);

  constructor(
    private readonly repo: FleetRepository,
    private readonly clock: FleetClock,
  ) {}

  /** Create an admin; returns the bearer token (the only time it exists in clear). */
  async create(name: string, token = newToken(ADMIN_TOKEN_PREFIX)): Promise<string> {
    if (token.length < 24)
      throw new FleetApiError(400, 'E-BAD-REQUEST', 'an admin token needs at least 24 characters');
    const inserted = await this.repo.insertAdmin({
      id: randomUUID(),
      name,
      token_hash: hashToken(token),
      created_at: this.clock.now().toISOString(),
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
    await this.create('first-admin', token);
  }

  async verify(authorization: string | undefined): Promise<AdminRow> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match?.[1])
      throw new FleetApiError(
        401,
        'E-AUTH-MISSING',
        'send an admin credential: Authorization: Bearer <token>',
      );
    const admin = await this.repo.findAdminByTokenHash(hashToken(match[1]));
    if (!admin) throw new FleetApiError(401, 'E-AUTH-BAD', 'the admin credential is not valid');
    return admin;
  }
}
