import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { SIGNATURE_HEADERS } from '../../common/fleet-protocol.js';
import { FleetApiError } from '../fleet-errors.js';
import { RequestSignatureService } from '../services/request-signature.service.js';

type RawRequest = FastifyRequest & { rawBody?: Buffer };

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Device routes: a signed request from the device named in the path, and only that one. */
@Injectable()
export class DeviceSignatureGuard implements CanActivate {
  constructor(private readonly signatures: RequestSignatureService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RawRequest>();
    const signer = await this.signatures.verify({
      method: request.method,
      url: request.url,
      deviceId: header(request, SIGNATURE_HEADERS.device),
      timestamp: header(request, SIGNATURE_HEADERS.timestamp),
      nonce: header(request, SIGNATURE_HEADERS.nonce),
      signature: header(request, SIGNATURE_HEADERS.signature),
      body: request.rawBody,
    });
    const target = (request.params as { id?: string }).id;
    if (target !== signer) {
      throw new FleetApiError(
        403,
        'E-FORBIDDEN',
        `device "${signer}" may only use its own resources, not "${target}"`,
      );
    }
    return true;
  }
}
