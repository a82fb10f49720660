import {
  createParamDecorator,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { SIGNATURE_HEADERS } from '../../common/fleet-protocol.js';
import { FleetApiError } from '../fleet-errors.js';
import { RequestSignatureService, type SignedDevice } from '../services/request-signature.service.js';

type RawRequest = FastifyRequest & { rawBody?: Buffer; signedDevice?: SignedDevice };

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * Device routes: a signed request from the device named in the path, and only that one. The
 * device row read to check the signature is kept on the request (`@SignedDeviceOf()`), so the
 * route does not read it again.
 */
@Injectable()
export class DeviceSignatureGuard implements CanActivate {
  constructor(
    private readonly signatures: RequestSignatureService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RawRequest>();
    const storesNonce = this.reflector.get<boolean | undefined>(STORES_NONCE, context.getHandler()) === true;
    const verify = storesNonce
      ? this.signatures.verifyStoringNonceLater.bind(this.signatures)
      : this.signatures.verify.bind(this.signatures);
    const signed = await verify({
      method: request.method,
      url: request.url,
      deviceId: header(request, SIGNATURE_HEADERS.device),
      timestamp: header(request, SIGNATURE_HEADERS.timestamp),
      nonce: header(request, SIGNATURE_HEADERS.nonce),
      signature: header(request, SIGNATURE_HEADERS.signature),
      body: request.rawBody,
    });
    const target = (request.params as { id?: string }).id;
    if (target !== signed.row.id) {
      throw new FleetApiError(
        403,
        'E-FORBIDDEN',
        `device "${signed.row.id}" may only use its own resources, not "${target}"`,
      );
    }
    request.signedDevice = signed;
    return true;
  }
}

const STORES_NONCE = 'classbox:stores-nonce';

/**
 * A device route that stores the request's nonce in its own write's transaction and refuses a replay
 * itself (`SignedDevice.nonceToStore`): the guard then checks the signature only.
 */
export const StoresNonceItself = (): MethodDecorator => SetMetadata(STORES_NONCE, true);

/** The verified device of a route behind `DeviceSignatureGuard`. */
export const SignedDeviceOf = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const signed = context.switchToHttp().getRequest<RawRequest>().signedDevice;
  if (!signed) throw new Error('SignedDeviceOf() used on a route without DeviceSignatureGuard');
  return signed;
});
