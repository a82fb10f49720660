import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AdminAuthService } from '../services/admin-auth.service.js';

/** Admin routes need `Authorization: Bearer <admin credential>`. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly auth: AdminAuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    await this.auth.verify(request.headers.authorization);
    return true;
  }
}
