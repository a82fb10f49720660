import { describe, expect, it } from 'vitest';
import { enrolmentSeedSchema, isInsecureFleetUrl, timezoneSchema } from '../../../common/fleet-protocol.js';
import { FailureWindow } from '../../../provisioning/domain/failure-window.js';
import { parseTrustProxy } from '../../../provisioning/domain/trust-proxy.js';
import { adminTokenWeakness, generateAdminToken } from '../../../provisioning/services/admin-auth.service.js';

describe('issue 13 rules', () => {
  it('refuses a client after the limit of failures until its window ends', () => {
    const window = new FailureWindow(3, 60_000);
    for (let i = 1; i <= 3; i++) {
      expect(window.blockedFor('10.0.0.1', 1000)).toBeUndefined();
      expect(window.fail('10.0.0.1', 1000)).toBe(i);
    }
    expect(window.blockedFor('10.0.0.1', 1000)).toBe(60);
    expect(window.blockedFor('10.0.0.1', 31_000)).toBe(30);
    expect(window.blockedFor('10.0.0.2', 31_000)).toBeUndefined();
    expect(window.blockedFor('10.0.0.1', 61_000)).toBeUndefined();
    expect(window.fail('10.0.0.1', 61_000)).toBe(1);
  });

  it('keeps a bounded number of clients', () => {
    const window = new FailureWindow(1, 60_000, 2);
    window.fail('a', 0);
    window.fail('b', 0);
    window.fail('c', 0);
    expect(window.blockedFor('a', 1)).toBeUndefined();
    expect(window.blockedFor('c', 1)).toBe(60);
  });

  it('takes proxy addresses, CIDRs or a hop count for --trust-proxy, nothing else', () => {
    expect(parseTrustProxy('127.0.0.1')).toEqual(['127.0.0.1']);
    expect(parseTrustProxy('10.0.0.0/8, ::1')).toEqual(['10.0.0.0/8', '::1']);
    expect(parseTrustProxy('2')).toBe(2);
    for (const bad of ['0', 'true', 'everyone', '10.0.0.0/33', '10.0.0.1/8/1', ''])
      expect(parseTrustProxy(bad)).toBeUndefined();
  });

  it('accepts only generated admin credentials', () => {
    for (let i = 0; i < 50; i++) expect(adminTokenWeakness(generateAdminToken())).toBeUndefined();
    expect(adminTokenWeakness('cbx_admin_test_credential_0123456789')).toMatch(/32 random/);
    expect(adminTokenWeakness(`cbx_admin_${'a'.repeat(32)}`)).toMatch(/not random/);
    expect(adminTokenWeakness(`cbx_admin_${'abcd'.repeat(8)}`)).toMatch(/not random/);
  });

  it('calls only plain http to another host insecure', () => {
    expect(isInsecureFleetUrl('http://10.0.2.2:8490')).toBe(true);
    expect(isInsecureFleetUrl('http://fleet.example.cn')).toBe(true);
    for (const ok of [
      'https://fleet.example.cn',
      'http://127.0.0.1:8490',
      'http://[::1]:80',
      'http://localhost',
    ])
      expect(isInsecureFleetUrl(ok)).toBe(false);
    const seed = {
      fleetUrl: 'http://10.0.2.2:8490',
      token: 'cbx_enrol_0123456789abcdef',
      deviceId: 'jx-dev-01',
      centreId: 'jx-dev',
      displayName: '开发',
      expiresAt: '2030-01-01T00:00:00Z',
    };
    expect(enrolmentSeedSchema.safeParse(seed).success).toBe(false);
    expect(enrolmentSeedSchema.safeParse({ ...seed, allowInsecureHttp: true }).success).toBe(true);
  });

  it('takes IANA zone names only', () => {
    for (const zone of ['Asia/Shanghai', 'UTC', 'America/Argentina/Buenos_Aires', 'Etc/GMT+8'])
      expect(timezoneSchema.safeParse(zone).success).toBe(true);
    for (const zone of ['Mars/Olympus', '+08:00', '', 'Asia/Shanghai '])
      expect(timezoneSchema.safeParse(zone).success).toBe(false);
  });
});
