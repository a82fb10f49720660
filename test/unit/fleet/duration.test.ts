import { describe, expect, it } from 'vitest';
import { parseDuration, parseDurationWithin, TOKEN_LIFETIME } from '../../../provisioning/domain/duration.js';

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

describe('parseDurationWithin', () => {
  it('reads 2w for an enrolment token, as both `fleet token create` and `flash` do', () => {
    expect(parseDurationWithin('2w', TOKEN_LIFETIME)).toBe(1_209_600);
  });

  it('names what is wrong: not a duration, or outside the bounds', () => {
    expect(() => parseDurationWithin('600', TOKEN_LIFETIME)).toThrow(
      '"600" is not a duration (expected a duration such as 90s, 30m, 12h, 7d or 2w)',
    );
    expect(() => parseDurationWithin('10s', TOKEN_LIFETIME)).toThrow('"10s" is outside 1 minute to 90 days');
    expect(() => parseDurationWithin('13w', TOKEN_LIFETIME)).toThrow('outside');
  });
});
