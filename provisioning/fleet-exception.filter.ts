import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { reason } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import type { ErrorCode } from '../common/error-catalog.js';
import type { ApiErrorBody } from '../common/fleet-protocol.js';
import { FleetApiError } from './fleet-errors.js';

/**
 * Every failure becomes `{error: {code, message}}` with a 4xx when the caller was wrong;
 * anything unexpected is a logged 500 that names no internals.
 */
@Catch()
export class FleetExceptionFilter implements ExceptionFilter {
  private readonly log = createLogger(FleetExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body } = this.describe(exception);
    body.serverTime = new Date().toISOString();
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  private describe(exception: unknown): { status: number; body: ApiErrorBody } {
    if (exception instanceof FleetApiError) {
      return {
        status: exception.status,
        body: { error: { code: exception.code, message: exception.message, details: exception.details } },
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { status, body: { error: { code: codeForStatus(status), message: exception.message } } };
    }
    // Fastify's own refusals (bad JSON, too large, wrong content type) carry a 4xx statusCode.
    const statusCode = (exception as { statusCode?: unknown }).statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return {
        status: statusCode,
        body: { error: { code: codeForStatus(statusCode), message: (exception as Error).message } },
      };
    }
    this.log.error(`Can't handle request: ${reason(exception)}`);
    return {
      status: 500,
      body: { error: { code: 'E-INTERNAL', message: 'internal error; the server log has the details' } },
    };
  }
}

function codeForStatus(status: number): ErrorCode | `E-HTTP-${number}` {
  switch (status) {
    case 400:
      return 'E-BAD-REQUEST';
    case 401:
      return 'E-AUTH-MISSING';
    case 404:
      return 'E-NOT-FOUND';
    case 413:
      return 'E-TOO-LARGE';
    case 415:
      return 'E-UNSUPPORTED-MEDIA-TYPE';
    case 429:
      return 'E-RATE-LIMITED';
    default:
      return `E-HTTP-${status}`;
  }
}
