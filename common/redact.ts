/**
 * Secrets taken out of log lines before they leave the box (and again on the fleet server, which
 * stores what a box sends): IT reads a box's log remotely (issue 18), and a log line may hold what
 * a careless message or a library put there. Two nets: the box's own secret values, wherever they
 * appear, and the shapes a secret has whatever its value.
 */

export const REDACTED = '<redacted>';

/** Names of JSON fields and `key=value` pairs whose value is a secret (case-insensitive, by suffix). */
const SECRET_NAME = String.raw`[A-Za-z_]*(?:secret|token|password|passwd|pin|credential|privatekey|privatekeypem|authorization)`;

const PATTERNS: [RegExp, string][] = [
  // A PEM private key (the device's Ed25519 key), also with its newlines escaped inside a JSON line.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, REDACTED],
  // The fleet's admin credentials and enrolment tokens (`cbx_admin_…`, `cbx_enrol_…`).
  [/\bcbx_(admin|enrol)_[A-Za-z0-9_-]+/g, `cbx_$1_${REDACTED}`],
  // An HTTP bearer credential (not "Basic": the word starts too many plain sentences).
  [/\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  // "apiSecret":"…", "pin":1234, "roomToken":"…" in a JSON line or object.
  [
    new RegExp(String.raw`("${SECRET_NAME}"\s*:\s*)(?:"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?)`, 'gi'),
    `$1"${REDACTED}"`,
  ],
  // token=… in a message (the house's key=value ids).
  [new RegExp(String.raw`\b(${SECRET_NAME})=(?!${REDACTED})[^\s",}\\]+`, 'gi'), `$1=${REDACTED}`],
];

/** Shorter known values are not replaced wherever they appear: "12" would blank every number. */
const MIN_KNOWN_LENGTH = 4;

/**
 * The line with every secret replaced by `<redacted>`: the secret shapes first (a whole PEM block
 * goes, even if a known value appears in it), then each of `known` (the box's own secret values,
 * e.g. its Janus API secret and room pin) wherever it still appears.
 */
export function redactSecrets(line: string, known: readonly string[] = []): string {
  let out = line;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  for (const value of known) {
    if (value.length < MIN_KNOWN_LENGTH) continue;
    // As written, and as it stands escaped inside a JSON line.
    for (const form of new Set([value, JSON.stringify(value).slice(1, -1)]))
      out = out.split(form).join(REDACTED);
  }
  return out;
}
