/**
 * Redaction of one example: every text of the conversation (message contents and each string inside tool
 * call arguments) is scanned for secrets (by an injected scanner: secretlint behind a port) and PII
 * (regexes, pii.ts); each finding is replaced by `[REDACTED:<kind>]` and recorded by kind and place,
 * never with the text it removed. Tool arguments stay valid JSON: strings inside them are redacted, not
 * the JSON text.
 */
import type { ChatMessage, Example, Redaction } from './example';
import { findPii, mergeFindings, type TextFinding } from './pii';

export type SecretScan = (text: string) => Promise<readonly TextFinding[]>;

interface Segment {
  field: string;
  text: string;
}

/** A short, stable label for a finding kind: `@secretlint/secretlint-rule-github` → `github`. */
export const kindLabel = (kind: string): string => kind.replace(/^@secretlint\/secretlint-rule-/, '');
export const placeholder = (kind: string): string => `[REDACTED:${kindLabel(kind)}]`;

function walkStrings(value: unknown, path: string, visit: (path: string, s: string) => string): unknown {
  if (typeof value === 'string') return visit(path, value);
  if (Array.isArray(value)) return value.map((v, i) => walkStrings(v, `${path}[${i}]`, visit));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = walkStrings(v, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, visit);
    return out;
  }
  return value;
}

/** Every text of the example with its field path. */
export function textSegments(ex: Example): Segment[] {
  const out: Segment[] = [];
  ex.messages.forEach((m, i) => {
    if (m.content) out.push({ field: `messages[${i}].content`, text: m.content });
    if (m.role !== 'assistant') return;
    (m.tool_calls ?? []).forEach((c, j) => {
      walkStrings(JSON.parse(c.function.arguments), `messages[${i}].tool_calls[${j}].function.arguments`, (field, text) => {
        if (text) out.push({ field, text });
        return text;
      });
    });
  });
  return out;
}

function applyFindings(text: string, findings: readonly TextFinding[], field: string, record: Redaction[]): string {
  let out = '';
  let pos = 0;
  for (const f of mergeFindings(findings)) {
    out += text.slice(pos, f.start);
    const mark = placeholder(f.kind);
    record.push({ kind: kindLabel(f.kind), field, start: out.length, end: out.length + mark.length });
    out += mark;
    pos = f.end;
  }
  return out + text.slice(pos);
}

const separator = '\n\n';

/**
 * Scans the whole example with one call of `scanSecrets` (segments joined, findings mapped back and
 * clipped to their segment), adds PII findings when `pii`, and returns the redacted example.
 */
export async function redactExample(
  ex: Example,
  scanSecrets: SecretScan | undefined,
  pii: boolean,
): Promise<{ example: Example; redactions: Redaction[] }> {
  const segments = textSegments(ex);
  const perField = new Map<string, TextFinding[]>(segments.map((s) => [s.field, pii ? findPii(s.text) : []]));
  if (scanSecrets && segments.length) {
    const starts: number[] = [];
    let joined = '';
    for (const s of segments) {
      if (joined) joined += separator;
      starts.push(joined.length);
      joined += s.text;
    }
    for (const f of await scanSecrets(joined)) {
      segments.forEach((s, k) => {
        const a = Math.max(f.start, starts[k]!);
        const b = Math.min(f.end, starts[k]! + s.text.length);
        if (a < b) perField.get(s.field)!.push({ kind: f.kind, start: a - starts[k]!, end: b - starts[k]! });
      });
    }
  }
  if ([...perField.values()].every((l) => l.length === 0)) return { example: ex, redactions: [] };
  const redactions: Redaction[] = [];
  const fix = (field: string, text: string) => {
    const found = perField.get(field);
    return found?.length ? applyFindings(text, found, field, redactions) : text;
  };
  const messages = ex.messages.map((m, i): ChatMessage => {
    const content = m.content ? fix(`messages[${i}].content`, m.content) : m.content;
    if (m.role !== 'assistant') return { ...m, content: content as string };
    const toolCalls = m.tool_calls?.map((c, j) => {
      const base = `messages[${i}].tool_calls[${j}].function.arguments`;
      let changed = false;
      const args = walkStrings(JSON.parse(c.function.arguments), base, (field, text) => {
        const next = fix(field, text);
        if (next !== text) changed = true;
        return next;
      });
      return changed ? { ...c, function: { ...c.function, arguments: JSON.stringify(args) } } : c;
    });
    return { ...m, content, ...(toolCalls ? { tool_calls: toolCalls } : {}) };
  });
  return { example: { ...ex, messages }, redactions };
}
