import { describe, expect, it } from 'vitest';
import { LogRing } from '../../../common/log-ring.js';
import { redactSecrets } from '../../../common/redact.js';

/** Log lines IT reads remotely carry no secret (issue 18). */
describe('redactSecrets', () => {
  it("takes out the box's own secret values wherever they appear, also escaped in JSON", () => {
    const line = JSON.stringify({ msg: 'Can\'t join: api secret "ab"cd" refused', room: 1234 });
    expect(redactSecrets(line, ['ab"cd', 'x'])).toBe(
      JSON.stringify({ msg: 'Can\'t join: api secret "<redacted>" refused', room: 1234 }),
    );
  });

  it('takes out admin credentials and enrolment tokens, bearer headers and PEM private keys', () => {
    const admin = `cbx_admin_${'A1b2_-'.repeat(5)}xy`;
    const line = JSON.stringify({
      msg: `Enrolled with token cbx_enrol_0123abcd by ${admin}`,
      headers: { authorization: `Bearer ${admin}` },
      key: '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ\n-----END PRIVATE KEY-----\n',
    });
    const out = redactSecrets(line);
    expect(out).not.toContain('A1b2');
    expect(out).not.toContain('0123abcd');
    expect(out).not.toContain('MC4CAQAw');
    expect(JSON.parse(out)).toEqual({
      msg: 'Enrolled with token cbx_enrol_<redacted> by cbx_admin_<redacted>',
      headers: { authorization: '<redacted>' },
      key: '<redacted>\n',
    });
  });

  it('takes out the values of secret-named fields and key=value pairs, whatever they are', () => {
    const line = JSON.stringify({
      msg: 'Applied config roomSecret=hunter22 token=abc.def room=1234',
      janus: { apiSecret: 'x', pin: 8848, token: 'y\\"z', room: 1234 },
      turn: { credential: 'turn-pass', username: 'u' },
      password: 'admin-pw',
    });
    expect(JSON.parse(redactSecrets(line))).toEqual({
      msg: 'Applied config roomSecret=<redacted> token=<redacted> room=1234',
      janus: { apiSecret: '<redacted>', pin: '<redacted>', token: '<redacted>', room: 1234 },
      turn: { credential: '<redacted>', username: 'u' },
      password: '<redacted>',
    });
  });

  it('leaves a line without secrets as it was', () => {
    const line = JSON.stringify({
      level: 'info',
      ctx: 'FleetClientService',
      msg: 'Basic checks passed; received config etag="a" room=1234 typing=on',
      tokens: 3,
      tokenId: 'tk-1',
    });
    expect(redactSecrets(line, ['a'])).toBe(line);
  });
});

describe('LogRing', () => {
  it('keeps the latest lines, oldest first, without their newlines', () => {
    const ring = new LogRing(3);
    expect(ring.recent()).toEqual([]);
    for (const n of [1, 2]) ring.write(`{"n":${n}}\n`);
    expect(ring.recent()).toEqual(['{"n":1}', '{"n":2}']);
    for (const n of [3, 4, 5]) ring.write(`{"n":${n}}\n`);
    expect(ring.recent()).toEqual(['{"n":3}', '{"n":4}', '{"n":5}']);
    expect(ring.recent(2)).toEqual(['{"n":4}', '{"n":5}']);
  });
});
