import { isIP } from 'node:net';

/**
 * `--trust-proxy`: the proxies' addresses or CIDRs (comma-separated), or the number of proxy
 * hops. Fastify then takes the client address from X-Forwarded-For only as far as it came
 * through those proxies; `true` (trust any sender's header) is not offered: a client could
 * then name any address it likes (issue 13).
 */
export function parseTrustProxy(value: string): string[] | number | undefined {
  if (/^\d{1,2}$/.test(value)) {
    const hops = Number(value);
    return hops >= 1 ? hops : undefined;
  }
  const list = value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  const valid = list.every((entry) => {
    const [address = '', bits, extra] = entry.split('/');
    if (extra !== undefined || isIP(address) === 0) return false;
    if (bits === undefined) return true;
    const n = Number(bits);
    return /^\d{1,3}$/.test(bits) && n <= (isIP(address) === 4 ? 32 : 128);
  });
  return list.length > 0 && valid ? list : undefined;
}
