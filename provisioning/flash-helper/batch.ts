import { groupByCentre, type BoxRow } from './centres-csv.js';
import type { EnrolmentSeed } from './enrolment-seed.schema.js';
import { AdminApiError, type AdminApiClient } from '../adapters/admin-api.http.js';

export interface MintedBox {
  readonly row: BoxRow;
  readonly seed: EnrolmentSeed;
}

/** Mints one token per box, one request per centre, and pairs each seed with its CSV row. */
export async function mintSeeds(
  client: Pick<AdminApiClient, 'mintTokens'>,
  rows: BoxRow[],
  expiresInSeconds: number,
): Promise<MintedBox[]> {
  const minted: MintedBox[] = [];
  for (const [centreId, boxes] of groupByCentre(rows)) {
    const answer = await client.mintTokens(centreId, {
      count: boxes.length,
      expiresInSeconds,
      deviceIds: boxes.map((b) => b.deviceId),
      displayNames: boxes.map((b) => b.displayName),
    });
    for (const box of boxes) {
      const token = answer.tokens.find((t) => t.deviceId === box.deviceId);
      if (!token) {
        throw new AdminApiError(
          'E-ADMIN-API-BAD-ANSWER',
          `the fleet server minted no token for ${box.deviceId} (centre ${centreId})`,
        );
      }
      if (token.seed.deviceId !== box.deviceId || token.seed.centreId !== centreId) {
        throw new AdminApiError(
          'E-ADMIN-API-BAD-ANSWER',
          `the seed for ${box.deviceId} names device ${token.seed.deviceId} in centre ${token.seed.centreId}`,
        );
      }
      minted.push({ row: box, seed: token.seed });
    }
  }
  return minted;
}
