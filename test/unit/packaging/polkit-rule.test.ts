import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Action {
  id: string;
  lookup: (key: string) => string | undefined;
}
type Rule = (action: Action, subject: { user: string }) => string | null;

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

const action = (id: string, details: Record<string, string> = {}): Action => ({
  id,
  lookup: (key) => details[key],
});

describe('50-classbox-reboot.rules', () => {
  it('lets the classbox user reboot and restart its own service, nothing more, and nobody else', () => {
    const rule = loadRule();
    expect(rule(action('org.freedesktop.login1.reboot'), { user: 'classbox' })).toBe('yes');
    expect(rule(action('org.freedesktop.login1.reboot-multiple-sessions'), { user: 'classbox' })).toBe('yes');
    expect(rule(action('org.freedesktop.login1.power-off'), { user: 'classbox' })).toBeNull();
    const manage = 'org.freedesktop.systemd1.manage-units';
    expect(rule(action(manage, { unit: 'classbox.service', verb: 'restart' }), { user: 'classbox' })).toBe(
      'yes',
    );
    expect(rule(action(manage, { unit: 'classbox.service', verb: 'stop' }), { user: 'classbox' })).toBeNull();
    expect(rule(action(manage, { unit: 'ssh.service', verb: 'restart' }), { user: 'classbox' })).toBeNull();
    expect(rule(action(manage), { user: 'classbox' })).toBeNull();
    expect(rule(action('org.freedesktop.login1.reboot'), { user: 'pi' })).toBeNull();
    expect(rule(action(manage, { unit: 'classbox.service', verb: 'restart' }), { user: 'pi' })).toBeNull();
  });
});
