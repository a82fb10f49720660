import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

type Rule = (action: { id: string }, subject: { user: string }) => string | null;

/** Evaluates the packaged polkit rule the way polkitd does: a script calling polkit.addRule(). */
function loadRule(): Rule {
  const rules: Rule[] = [];
  const polkit = {
    Result: { YES: 'yes', NO: 'no', NOT_HANDLED: null },
    addRule: (rule: Rule) => rules.push(rule),
  };
  const text = readFileSync(
    join(import.meta.dirname, '../../../images/deb/classbox-reboot.polkit.rules'),
    'utf8',
  );
  new Function('polkit', text)(polkit);
  expect(rules).toHaveLength(1);
  return rules[0]!;
}

describe('50-classbox-reboot.rules', () => {
  it('lets the classbox user reboot and nothing more, and nobody else', () => {
    const rule = loadRule();
    expect(rule({ id: 'org.freedesktop.login1.reboot' }, { user: 'classbox' })).toBe('yes');
    expect(rule({ id: 'org.freedesktop.login1.reboot-multiple-sessions' }, { user: 'classbox' })).toBe('yes');
    expect(rule({ id: 'org.freedesktop.login1.power-off' }, { user: 'classbox' })).toBeNull();
    expect(rule({ id: 'org.freedesktop.systemd1.manage-units' }, { user: 'classbox' })).toBeNull();
    expect(rule({ id: 'org.freedesktop.login1.reboot' }, { user: 'pi' })).toBeNull();
  });
});
