import { afterEach, describe, expect, it, vi } from 'vitest';
import { required } from '../../helpers/requirements.js';

describe('required (what a suite needs from outside)', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('lets a suite skip, counted, where CI is not set', () => {
    vi.stubEnv('CI', '');
    expect(required('Chromium at /nowhere/chromium', false)).toBe(false);
    expect(required('PostgreSQL', true)).toBe(true);
  });

  it('fails the run in CI when it is missing, naming it', () => {
    vi.stubEnv('CI', 'true');
    expect(() => required('Chromium at /nowhere/chromium', false)).toThrow(
      'CI needs Chromium at /nowhere/chromium, and this machine has none',
    );
    expect(required('PostgreSQL', true)).toBe(true);
  });
});
