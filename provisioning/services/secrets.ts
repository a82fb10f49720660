import { createHash, randomBytes } from 'node:crypto';

/**
 * Tokens are 192 random bits, so a plain SHA-256 is enough to store them: there is nothing
 * to brute-force that a slow password hash would protect.
 */
export function newToken(prefix: string): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
