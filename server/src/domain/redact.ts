/**
 * Secret redaction applied to everything written to logs and transcripts. Conservative on purpose:
 * a false positive costs a few characters of a log line, a false negative leaks a key.
 */
const patterns: RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{16,}/g, // OpenAI-style and Anthropic (sk-ant-…) keys
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g, // GitHub tokens
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key ids
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /\bAIza[0-9A-Za-z_-]{35}\b/g, // Google API keys
  /\biok_[0-9a-f]{16}_[A-Za-z0-9_-]{20,}/g, // the team server's own API keys
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
];
const bearer = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const assignment = /\b([A-Za-z0-9_]*(?:password|passwd|secret|token|api[_-]?key|apikey)[A-Za-z0-9_]*)("?\s*[:=]\s*"?)([^\s"',;}]{4,})/gi;

export const redactedMark = '[REDACTED]';

/**
 * Counts of model tokens (`tokens`, `inputTokens`, `max_tokens`, `tokenCount`) are usage figures, not
 * credentials: a purely numeric value under such a key is kept. Any other value under them is still redacted.
 */
const tokenCountKey = /(?:tokens|token_?count)$/i;
const numeric = /^\d+(?:\.\d+)?$/;
const isTokenCount = (key: string, value: string): boolean => tokenCountKey.test(key) && numeric.test(value);

/** Exact secret values this process holds (provider keys handed over in the environment); longest first. */
let knownSecrets: string[] = [];

/**
 * Adds exact values to redact wherever they appear, whatever their shape (a local server's key need not look
 * like `sk-…`). Values shorter than 4 characters are ignored: they would redact ordinary words.
 */
export function addKnownSecrets(values: Iterable<string>): void {
  const all = new Set([...knownSecrets, ...[...values].filter((v) => v.length >= 4)]);
  knownSecrets = [...all].sort((a, b) => b.length - a.length);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const s of knownSecrets) out = out.split(s).join(redactedMark);
  for (const p of patterns) out = out.replace(p, redactedMark);
  out = out.replace(bearer, (_m, scheme: string) => `${scheme} ${redactedMark}`);
  out = out.replace(assignment, (m, key: string, sep: string, value: string) =>
    isTokenCount(key, value) ? m : `${key}${sep}${redactedMark}`,
  );
  return out;
}

/** Deep-redact every string inside a JSON-like value (keys named like secrets lose their values). */
export function redactValue<T>(value: T): T {
  const secretKey = /password|passwd|secret|token|api[_-]?key|apikey|authorization/i;
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') {
      return key && secretKey.test(key) && !isTokenCount(key, v) ? redactedMark : redactSecrets(v);
    }
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x, k)]));
    }
    return v;
  };
  return walk(value) as T;
}

/** `scheme://user:password@` (any userinfo) in URLs; up to the last `@` before the host's end, as URL parsers do. */
const urlUserinfo = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#'"]+@/gi;

/**
 * Masks the userinfo of every URL in `text` (`https://user:TOKEN@host/repo` → `https://***@host/repo`): git
 * remotes carry credentials there, and git's errors and our messages quote the remote.
 */
export function redactUrlUserinfo(text: string): string {
  return text.replace(urlUserinfo, '$1***@');
}
