import { Injectable } from '@nestjs/common';
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import type { z } from 'zod';
import {
  apiErrorSchema,
  canonicalRequest,
  desiredConfigSchema,
  enrolResponseSchema,
  heartbeatResponseSchema,
  SIGNATURE_HEADERS,
  type ActionResult,
  type DesiredConfig,
  type EnrolRequest,
  type EnrolResponse,
  type Heartbeat,
  type HeartbeatResponse,
} from '../../common/fleet-protocol.js';
import { describeIssues } from '../../common/zod-issues.js';
import { FleetError, FleetPort, type FleetSession } from '../ports/fleet.port.js';

const TIMEOUT_MS = 10_000;

/** The fleet server over HTTP(S) with the global fetch; device requests signed with Ed25519. */
@Injectable()
export class HttpFleet extends FleetPort {
  async enrol(fleetUrl: string, request: EnrolRequest): Promise<EnrolResponse> {
    const response = await this.send(fleetUrl, 'POST', '/api/v1/enrol', JSON.stringify(request), {});
    return this.parse(response, enrolResponseSchema, 'enrolment');
  }

  async heartbeat(session: FleetSession, beat: Heartbeat): Promise<HeartbeatResponse> {
    const path = `/api/v1/devices/${encodeURIComponent(session.deviceId)}/heartbeat`;
    const response = await this.signed(session, 'POST', path, JSON.stringify(beat));
    return this.parse(response, heartbeatResponseSchema, 'heartbeat');
  }

  async fetchConfig(
    session: FleetSession,
    etag: string | undefined,
  ): Promise<{ config: DesiredConfig; etag: string } | 'unchanged'> {
    const path = `/api/v1/devices/${encodeURIComponent(session.deviceId)}/config`;
    const response = await this.signed(session, 'GET', path, '', etag ? { 'if-none-match': etag } : {});
    if (response.status === 304) return 'unchanged';
    const config = await this.parse(response, desiredConfigSchema, 'config');
    const newEtag = response.headers.get('etag');
    if (!newEtag) throw new FleetError('E-FLEET-BAD-RESPONSE', 'the config came without an ETag');
    return { config, etag: newEtag };
  }

  async reportAction(session: FleetSession, actionId: string, result: ActionResult): Promise<void> {
    const path = `/api/v1/devices/${encodeURIComponent(session.deviceId)}/actions/${encodeURIComponent(actionId)}/result`;
    const response = await this.signed(session, 'POST', path, JSON.stringify(result));
    if (!response.ok) await this.refusal(response);
  }

  private signed(
    session: FleetSession,
    method: string,
    path: string,
    body: string,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    return this.send(session.url, method, path, body, {
      ...extra,
      ...signedRequestHeaders(session, method, path, body),
    });
  }

  private async send(
    base: string,
    method: string,
    path: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<Response> {
    const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
    try {
      return await fetch(url, {
        method,
        headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
        body: body || undefined,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new FleetError(
        'E-FLEET-UNREACHABLE',
        `can't reach the fleet server at ${url.origin}`,
        {},
        { cause: error },
      );
    }
  }

  private async parse<S extends z.ZodType>(
    response: Response,
    schema: S,
    what: string,
  ): Promise<z.output<S>> {
    if (!response.ok) await this.refusal(response);
    let raw: unknown;
    try {
      raw = await response.json();
    } catch (error) {
      throw new FleetError(
        'E-FLEET-BAD-RESPONSE',
        `the ${what} answer is not JSON`,
        { status: response.status },
        { cause: error },
      );
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new FleetError(
        'E-FLEET-BAD-RESPONSE',
        `invalid ${what} answer: ${describeIssues(parsed.error).join('; ')}`,
        {
          status: response.status,
        },
      );
    }
    return parsed.data;
  }

  private async refusal(response: Response): Promise<never> {
    const dateHeader = response.headers.get('date');
    const serverTimeMs = dateHeader ? Date.parse(dateHeader) : undefined;
    let body: z.output<typeof apiErrorSchema> | undefined;
    try {
      body = apiErrorSchema.parse(await response.json());
    } catch {
      body = undefined;
    }
    const precise = body?.serverTime ? Date.parse(body.serverTime) : serverTimeMs;
    throw new FleetError(
      'E-FLEET-REFUSED',
      `the fleet server refused: ${response.status} ${body?.error.code ?? ''} ${body?.error.message ?? response.statusText}`
        .replace(/\s+/g, ' ')
        .trim(),
      {
        status: response.status,
        serverCode: body?.error.code,
        serverTimeMs: Number.isFinite(precise) ? precise : undefined,
      },
    );
  }
}

/** The signature headers of a device request (also used by the release download). */
export function signedRequestHeaders(
  session: FleetSession,
  method: string,
  path: string,
  body: string,
): Record<string, string> {
  const timestamp = String(Math.round(Date.now() + session.clockOffsetMs));
  const nonce = randomBytes(18).toString('base64url');
  const bodySha256Hex = createHash('sha256').update(body, 'utf8').digest('hex');
  const signature = sign(
    null,
    Buffer.from(canonicalRequest({ method, path, timestamp, nonce, bodySha256Hex }), 'utf8'),
    createPrivateKey(session.privateKeyPem),
  ).toString('base64');
  return {
    [SIGNATURE_HEADERS.device]: session.deviceId,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: signature,
  };
}
