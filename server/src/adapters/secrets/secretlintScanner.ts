/**
 * Secret scanning with secretlint and its recommended rule preset (AWS, GitHub, Slack, OpenAI,
 * Anthropic, private keys, basic-auth URLs, database connection strings, npm, Stripe, …). Only the rule
 * id and the range of each finding leave this file; the matched text is never kept.
 */
import type { lintSource as LintSource } from '@secretlint/core';
import type { SecretLintCoreConfig } from '@secretlint/types';
import type { TextFinding } from '../../domain/dataset/pii';
import type { SecretScannerPort } from '../../ports/datasetTools';

/**
 * secretlint and its rules load on the first scan (a dynamic import), not when the server starts.
 * The AWS rule scans bare access key ids (AKIA…) only when asked; training data must lose them too.
 */
let loaded: Promise<{ lintSource: typeof LintSource; config: SecretLintCoreConfig }> | undefined;
const load = () =>
  (loaded ??= Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend')]).then(([core, preset]) => ({
    lintSource: core.lintSource,
    config: {
      rules: [
        {
          id: '@secretlint/secretlint-rule-preset-recommend',
          rule: preset.creator,
          rules: [{ id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } }],
        },
      ],
    },
  })));

/**
 * secretlint honours `secretlint-disable` comments in the scanned text; a transcript must not be able to
 * switch the scan off, so the directive is defused (same length, so ranges stay true).
 */
const defuse = (text: string) => text.replace(/secretlint-(disable|enable)/gi, 'secretlint_$1');

export class SecretlintScanner implements SecretScannerPort {
  async scan(text: string): Promise<TextFinding[]> {
    if (!text) return [];
    const { lintSource, config } = await load();
    const result = await lintSource({
      source: { content: defuse(text), filePath: '/dataset/example.txt', ext: '.txt', contentType: 'text' },
      // Unmasked so `widen` can find the values; they never leave this function.
      options: { config, maskSecrets: false },
    });
    return result.messages.filter((m) => m.type === 'message' && m.range[1] > m.range[0]).map((m) => widen(text, m));
  }
}

/**
 * Some rules report a range that starts at the match, not at the secret inside it (the AWS secret key
 * rule reports `[start of AWS_SECRET_ACCESS_KEY=…, +40)`, which leaves the key's tail outside). The
 * secret values a rule puts in `data` are looked up from the range's start and the range is widened to
 * cover them; they are not kept.
 */
function widen(text: string, m: { ruleId: string; range: readonly [number, number]; data?: unknown }): TextFinding {
  let [start, end] = m.range;
  const values = m.data && typeof m.data === 'object' ? Object.values(m.data as Record<string, unknown>) : [];
  for (const v of values) {
    if (typeof v !== 'string' || v.length < 8) continue;
    const at = text.indexOf(v, start);
    if (at === -1 || at > end) continue;
    start = Math.min(start, at);
    end = Math.max(end, at + v.length);
  }
  return { kind: m.ruleId, start, end };
}
