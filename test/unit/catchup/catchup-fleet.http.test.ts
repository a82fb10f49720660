import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpCatchupFleet } from '../../../device/adapters/catchup-fleet.http.js';
import { CatchupError } from '../../../device/ports/catchup.port.js';
import type { FleetSession } from '../../../device/ports/fleet.port.js';

/** The fleet's answer to the next cut request: a status and a body. */
let answer: { status: number; body: unknown } = { status: 200, body: {} };
let server: Server;
let session: FleetSession;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { privateKey } = generateKeyPairSync('ed25519');
  session = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deviceId: 'jx-ruijin-01',
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    clockOffsetMs: 0,
  };
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function codeFor(status: number, body: unknown): Promise<string> {
  answer = { status, body };
  const error = await new HttpCatchupFleet()
    .requestCut(session, { room: 2222, fromMs: 1_000_000, toMs: 1_030_000 })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(CatchupError);
  return (error as CatchupError).code;
}

const refusal = (code: string) => ({ error: { code, message: 'no' } });

describe('HttpCatchupFleet.requestCut: what a refusal means for the box (issue 21)', () => {
  it('gives a stretch up on an answer no retry changes (400, 404, 410, 422)', async () => {
    expect(await codeFor(400, refusal('E-BAD-REQUEST'))).toBe('E-CATCHUP-REFUSED');
    expect(await codeFor(404, refusal('E-NOT-FOUND'))).toBe('E-CATCHUP-REFUSED');
    expect(await codeFor(410, 'gone')).toBe('E-CATCHUP-REFUSED');
    expect(await codeFor(422, {})).toBe('E-CATCHUP-REFUSED');
  });

  it("keeps the fleet's own catch-up code", async () => {
    expect(await codeFor(404, refusal('E-CATCHUP-NO-RECORDING'))).toBe('E-CATCHUP-NO-RECORDING');
    expect(await codeFor(422, refusal('E-CATCHUP-RECORDING-BAD'))).toBe('E-CATCHUP-RECORDING-BAD');
  });

  it('tries again on answers that may pass (5xx, 429, 401 while the clock or enrolment is fixed)', async () => {
    expect(await codeFor(500, {})).toBe('E-CATCHUP-DOWNLOAD');
    expect(await codeFor(503, refusal('E-INTERNAL'))).toBe('E-CATCHUP-DOWNLOAD');
    // A cut the busy server stopped: its own code, tried again.
    expect(await codeFor(503, refusal('E-CATCHUP-CUT-SLOW'))).toBe('E-CATCHUP-CUT-SLOW');
    expect(await codeFor(429, {})).toBe('E-CATCHUP-DOWNLOAD');
    expect(await codeFor(401, refusal('E-SIGNATURE-BAD'))).toBe('E-CATCHUP-DOWNLOAD');
  });
});
