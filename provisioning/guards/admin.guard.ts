import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AdminRow } from '../repositories/fleet.repository.js';
import { AdminAuthService } from '../services/admin-auth.service.js';

/** The admin a request was verified as, for the audit log (set by AdminGuard). */
const admins = new WeakMap<object, AdminRow>();

export function adminOf(request: FastifyRequest): AdminRow | undefined {
  return admins.get(request.raw);
}

/** Admin routes need `Authorization: Bearer <admin credential>`; failures count per client address. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly auth: AdminAuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    admins.set(request.raw, await this.auth.verify(request.headers.authorization, request.ip));
    return true;
  }
}
