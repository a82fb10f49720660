import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../provisioning/domain/duration.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['30m', 1800],
    ['12h', 43_200],
    ['7d', 604_800],
    ['2w', 1_209_600],
  ])('reads %s as %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '7', 'd', '7 days', '-1d', '1.5h', '7D'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
