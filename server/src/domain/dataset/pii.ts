/**
 * PII found by regular expressions: e-mail addresses, phone numbers and IP addresses. Loopback and
 * unspecified addresses (127.x, 0.0.0.0, ::1) are not personal and stay. Finds ranges; `redact.ts`
 * replaces them.
 */

export interface TextFinding {
  kind: string;
  start: number;
  end: number;
}

const email = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g;
const octet = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ipv4 = new RegExp(`(?<![\\d.])${octet}(?:\\.${octet}){3}(?![\\d.]*\\d)`, 'g');
const h = '[0-9A-Fa-f]{1,4}';
// Full form, or a compressed form with at least three groups (so `a::b` in code is not an address).
const ipv6 = new RegExp(`(?<![0-9A-Za-z:])(?:(?:${h}:){7}${h}|(?:${h}:){1,5}:(?:${h}:){0,4}${h})(?![0-9A-Za-z:])`, 'g');
// North-American style (555) 123-4567 / 555-123-4567, and international +CC followed by 6–14 digits in groups.
const phone = /(?<![\w+])(?:\+1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\w)|(?<![\w+])\+\d{1,3}(?:[\s.-]?\d){6,14}(?!\w)/g;

function collect(text: string, kind: string, re: RegExp, keep?: (m: string) => boolean): TextFinding[] {
  const out: TextFinding[] = [];
  for (const m of text.matchAll(re)) {
    if (keep && !keep(m[0])) continue;
    out.push({ kind, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

const countHexGroups = (s: string) => s.split(':').filter(Boolean).length;

/** PII in `text`, sorted by start, overlaps removed (the earlier, longer one wins). */
export function findPii(text: string): TextFinding[] {
  const all = [
    ...collect(text, 'email', email),
    ...collect(text, 'ip', ipv4, (m) => !m.startsWith('127.') && m !== '0.0.0.0'),
    ...collect(text, 'ip', ipv6, (m) => countHexGroups(m) >= 3),
    ...collect(text, 'phone', phone),
  ];
  return mergeFindings(all);
}

export const piiKinds: readonly string[] = ['email', 'phone', 'ip'];

/**
 * Sorted by start; a finding overlapping an earlier kept one is merged into it. A merged range is labelled
 * with a secret's kind over a PII kind (a token before `@github.com` is a token, not an e-mail address).
 */
export function mergeFindings(findings: readonly TextFinding[]): TextFinding[] {
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: TextFinding[] = [];
  for (const f of sorted) {
    const last = out[out.length - 1];
    if (last && f.start < last.end) {
      last.end = Math.max(last.end, f.end);
      if (piiKinds.includes(last.kind) && !piiKinds.includes(f.kind)) last.kind = f.kind;
    } else out.push({ ...f });
  }
  return out;
}
