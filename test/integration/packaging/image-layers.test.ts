import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, run } from './packaging-helpers.js';

/**
 * The rules rpi-image-gen applies to a config before it builds anything (issue 12: it refused ours because
 * `network-activator` came from two layers), checked here so that class of error never reaches an arm64
 * build machine. The rules, from rpi-image-gen's own code at commit 262d4df (site/layer_manager.py,
 * site/metadata_parser.py, site/validators.py):
 * - a config's layers are `device.layer`, `image.layer` and every value under `layer:`; each pulls in its
 *   `X-Env-Layer-Requires` (first word of each comma-separated entry), recursively;
 * - a `X-Env-Layer-Provides` token may be declared by one layer of the build only ("Provider conflict: 'x'
 *   is declared by multiple layers");
 * - every `X-Env-Layer-RequiresProvider` label must be provided by some layer of the build (trait tokens,
 *   with a `:`, resolve through a trait registry and are not checked here);
 * - a layer's header uses only the supported `X-Env-*` fields, and each variable's `-Valid` rule is one the
 *   validator parser accepts.
 * The layer facts below are copied from the headers of the layers our configs pull in (same commit). Set
 * RPI_IMAGE_GEN_DIR to a checkout of rpi-image-gen to check against its headers instead of this copy.
 */
interface LayerFacts {
  readonly requires: readonly string[];
  readonly provides: readonly string[];
  readonly requiresProvider: readonly string[];
  readonly conflicts: readonly string[];
}

const L = (
  requires: string[] = [],
  provides: string[] = [],
  requiresProvider: string[] = [],
  conflicts: string[] = [],
): LayerFacts => ({ requires, provides, requiresProvider, conflicts });

const UPSTREAM_262D4DF: Record<string, LayerFacts> = {
  'device-user-credentials': L(),
  'device-user-admin': L(['device-user-credentials']),
  'device-base': L(['device-user-admin'], [], ['device']),
  'rpi-boot-firmware': L(),
  'rpi-idp-luks2': L([], [], ['rpi-device']),
  'rpi-idp': L(['rpi-idp-luks2']),
  'rpi-device-secpolicy': L([], [], ['rpi-device', 'image', 'systemd']),
  'rpi-device-base': L(
    ['device-base', 'rpi-boot-firmware', 'rpi-idp', 'rpi-device-secpolicy'],
    ['device'],
    ['rpi-device', 'systemd', 'network-activator'],
  ),
  'linux-base': L(),
  'rpi-linux-2712': L(['linux-base'], [], ['hw:device:rpi', 'hw:soc:bcm2712']),
  rpi5: L(['rpi-device-base', 'rpi-linux-2712'], ['rpi-device', 'hw:device:rpi:pi5']),
  'rpi-linux-v8': L(['linux-base'], [], ['hw:device:rpi', 'hw:isa:armv8']),
  'rpi-generic64': L(['rpi-device-base', 'rpi-linux-v8']),
  rpi4: L(['rpi-generic64'], ['rpi-device', 'hw:device:rpi:pi4']),
  'sys-build-base': L(),
  'sbom-base': L(['artefact-base']),
  'artefact-base': L(),
  'target-config': L(['artefact-base', 'sys-build-base']),
  'deploy-base': L(['artefact-base', 'sys-build-base']),
  'fs-base': L(),
  'image-base': L(
    ['sys-build-base', 'sbom-base', 'target-config', 'artefact-base', 'deploy-base', 'fs-base'],
    [],
    ['device'],
  ),
  'rpi-storage-binder': L(),
  'image-rpios': L(['image-base', 'rpi-storage-binder'], ['image']),
  'locale-config': L(),
  'locale-base': L(['locale-config'], ['locale-configured']),
  'debian-trixie-arm64-multi': L(['locale-base'], ['debian-base']),
  'rpi-debian-trixie': L([], ['rpi-debian']),
  'rpi-misc-utils': L(),
  'rpi-essential-base': L(),
  'rpi-misc-skel': L(),
  'systemd-min': L([], ['systemd']),
  'systemd-resolved': L(['systemd-min'], ['dns-daemon']),
  'systemd-net-min': L(['systemd-min', 'systemd-resolved'], ['network-activator', 'systemd-networkd']),
  'openssh-server': L(['device-user-admin'], [], ['systemd']),
  'systemd-timesyncd': L(['systemd-min'], ['time-daemon']),
  'wireless-regulatory': L([], ['wireless-regdb']),
  iwd: L([], ['wifi-supplicant'], ['wireless-regdb', 'systemd', 'network-activator']),
  'trixie-minbase': L([
    'debian-trixie-arm64-multi',
    'rpi-debian-trixie',
    'rpi-misc-utils',
    'rpi-essential-base',
    'rpi-misc-skel',
    'systemd-net-min',
    'openssh-server',
    'systemd-timesyncd',
    'wireless-regulatory',
    'iwd',
  ]),
  'network-manager': L([], ['network-activator', 'network-renderer'], ['systemd']),
};

/** The supported header fields (site/metadata_parser.py SUPPORTED_FIELD_PATTERNS); `*` is a variable name. */
const SUPPORTED_FIELDS = [
  'X-Env-VarPrefix',
  ...['Name', 'Desc', 'Version', 'Requires', 'Conflicts', 'Category', 'Type', 'Generator', 'Provides'].map(
    (f) => `X-Env-Layer-${f}`,
  ),
  ...['RequiresProvider', 'AfterProvider', 'Sets'].map((f) => `X-Env-Layer-${f}`),
  ...['X-Env-VarRequires', 'X-Env-VarRequires-Valid', 'X-Env-VarOptional', 'X-Env-VarOptional-Valid'],
];
const VARIABLE_ATTRIBUTES = ['Desc', 'Required', 'Valid', 'Set', 'Anchor', 'Conflicts', 'Triggers'];

/** site/validators.py parse_validator: the rule forms it accepts. */
function validRule(rule: string): boolean {
  const keywords = ['string', 'string-or-empty', 'string-or-unset', 'bool', 'int', 'size', 'capacity'];
  if ([...keywords, 'file', 'file-nzero', 'dir'].includes(rule)) return true;
  if (/^int:\+?\d+-\+?\d+$/.test(rule)) return true;
  if (rule.startsWith('regex:')) {
    try {
      new RegExp(rule.slice('regex:'.length));
      return true;
    } catch {
      return false;
    }
  }
  if (rule.startsWith('keywords:') || rule.startsWith('list:')) return true;
  return rule.includes(',');
}

/** A layer header: `# X-Env-Field: value`, continuation lines `#  more`; METAEND may be left out. */
function header(text: string): Map<string, string> {
  const start = text.indexOf('# METABEGIN');
  const fields = new Map<string, string>();
  if (start < 0) return fields;
  const end = text.indexOf('# METAEND') < 0 ? text.length : text.indexOf('# METAEND');
  let current: string | undefined;
  for (const line of text.slice(start, end).split('\n')) {
    const field = /^# (X-Env-[\w-]+):[ \t]*(.*)$/.exec(line);
    if (field) {
      current = field[1]!;
      fields.set(current, field[2]!.trim());
      continue;
    }
    const more = /^# {2}(.*)$/.exec(line);
    if (more && current) fields.set(current, `${fields.get(current)} ${more[1]!.trim()}`.trim());
  }
  return fields;
}

function facts(fields: Map<string, string>): LayerFacts {
  const list = (key: string) =>
    (fields.get(key) ?? '')
      .split(',')
      .map((s) => s.trim().split(/\s+/)[0] ?? '')
      .filter((s) => s !== '');
  return {
    requires: list('X-Env-Layer-Requires'),
    provides: list('X-Env-Layer-Provides'),
    requiresProvider: list('X-Env-Layer-RequiresProvider'),
    conflicts: list('X-Env-Layer-Conflicts'),
  };
}

/** Every layer header under a directory, by layer name. */
function layersIn(dir: string): Record<string, LayerFacts> {
  const out: Record<string, LayerFacts> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.yaml')) {
        const fields = header(readFileSync(p, 'utf8'));
        const layer = fields.get('X-Env-Layer-Name');
        if (layer) out[layer] = facts(fields);
      }
    }
  };
  walk(dir);
  return out;
}

/** The problems rpi-image-gen would report for a config, as far as these rules go. */
function checkBuild(targets: readonly string[], layers: Record<string, LayerFacts>): string[] {
  const problems: string[] = [];
  const order: string[] = [];
  const visit = (name: string, from: string) => {
    if (order.includes(name)) return;
    const layer = layers[name];
    if (!layer) {
      problems.push(`Layer '${name}' (required by ${from}) not found`);
      return;
    }
    order.push(name);
    for (const dep of layer.requires) visit(dep, name);
  };
  for (const target of targets) visit(target, 'the config');
  const declared = new Map<string, string>();
  for (const name of order) {
    for (const token of layers[name]!.provides) {
      const existing = declared.get(token);
      if (existing && existing !== name)
        problems.push(`Provider conflict: '${token}' is declared by multiple layers: ${existing}, ${name}`);
      declared.set(token, name);
    }
  }
  for (const name of order) {
    const layer = layers[name]!;
    for (const wanted of layer.requiresProvider.filter((t) => !t.includes(':'))) {
      if (!declared.has(wanted))
        problems.push(`Layer '${name}' requires provider '${wanted}' which no layer of the build provides`);
    }
    for (const other of layer.conflicts) {
      if (order.includes(other)) problems.push(`Layer '${name}' conflicts with '${other}'`);
    }
  }
  return problems;
}

const IMAGE_DIR = join(REPO, 'images', 'rpi-image-gen');
const OUR_LAYER = join(IMAGE_DIR, 'layer', 'classbox-box.yaml');
const upstreamDir = process.env.RPI_IMAGE_GEN_DIR;
const hasYaml = run('python3', ['-c', 'import yaml']).status === 0;

function yaml(file: string): Record<string, Record<string, string>> {
  const result = run('python3', [
    '-c',
    'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))',
    file,
  ]);
  if (result.status !== 0) throw new Error(`${file} is not valid YAML: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, Record<string, string>>;
}

function upstreamLayers(): Record<string, LayerFacts> {
  if (!upstreamDir) return UPSTREAM_262D4DF;
  const found: Record<string, LayerFacts> = {};
  for (const sub of ['layer', 'device', 'image']) {
    if (existsSync(join(upstreamDir, sub))) Object.assign(found, layersIn(join(upstreamDir, sub)));
  }
  return found;
}

describe('the image configs against rpi-image-gen layer rules', () => {
  const ours = { 'classbox-box': facts(header(readFileSync(OUR_LAYER, 'utf8'))) };

  it('finds the conflict rpi-image-gen reported for network-manager on trixie-minbase', () => {
    // The rule itself: two network stacks both declare network-activator.
    expect(
      checkBuild(['rpi5', 'image-rpios', 'trixie-minbase', 'network-manager'], UPSTREAM_262D4DF),
    ).toEqual([
      "Provider conflict: 'network-activator' is declared by multiple layers: systemd-net-min, network-manager",
    ]);
  });

  it.skipIf(!hasYaml)('builds both boards with one network stack and every provider present', () => {
    const layers = { ...upstreamLayers(), ...ours };
    for (const file of ['classbox-pi4.yaml', 'classbox-pi5.yaml']) {
      const config = yaml(join(IMAGE_DIR, 'config', file));
      const targets = [config.device!.layer!, config.image!.layer!, ...Object.values(config.layer!)];
      expect(checkBuild(targets, layers), file).toEqual([]);
    }
  });

  it('uses only header fields and validation rules rpi-image-gen supports', () => {
    const fields = header(readFileSync(OUR_LAYER, 'utf8'));
    const unsupported = [...fields.keys()].filter((key) => {
      if (SUPPORTED_FIELDS.includes(key)) return false;
      const variable = /^X-Env-Var-([a-z0-9_]+)(?:-([A-Z][a-z]+))?$/.exec(key);
      return !variable || (variable[2] !== undefined && !VARIABLE_ATTRIBUTES.includes(variable[2]));
    });
    expect(unsupported).toEqual([]);
    const rules = [...fields.entries()].filter(([k]) => k.endsWith('-Valid')).map(([, v]) => v);
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.filter((rule) => !validRule(rule))).toEqual([]);
  });

  it.skipIf(!upstreamDir)('matches the headers of the rpi-image-gen checkout in RPI_IMAGE_GEN_DIR', () => {
    const found = upstreamLayers();
    for (const [name, layer] of Object.entries(UPSTREAM_262D4DF)) {
      expect(found[name], name).toEqual(layer);
    }
  });
});

describe('images/README.md', () => {
  it('names the image where rpi-image-gen writes it: work/deploy-<version>/<name>.img.zst', () => {
    const readme = readFileSync(join(REPO, 'images', 'README.md'), 'utf8');
    expect(readme).toContain('work/deploy-');
    expect(readme).toMatch(/classbox-pi5\.img\.zst/);
    expect(readme).not.toMatch(/work\/classbox-pi5\/deploy/);
  });
});
