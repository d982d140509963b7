/**
 * A model provider entry as settings (`orchestrator.opencode.providers`) and the CLI's config file hold it:
 * the one schema for both, validated by the server at `initialize` and by the extension before it writes
 * settings. Keys are never literal: `apiKey` references an environment variable as `{env:NAME}`.
 */
import { z } from 'zod';
import { providerIdPattern } from './constants';

/**
 * How OpenCode talks to the provider: `openai-compatible` (any `/v1/chat/completions` server: a hosted API,
 * OpenRouter, Ollama, LM Studio, the scripted model) or one of OpenCode's bundled native SDKs.
 */
export const providerKinds = ['openai-compatible', 'anthropic', 'openai', 'openrouter'] as const;
export type ProviderKind = (typeof providerKinds)[number];

export { providerIdPattern };
export const envReferencePattern = /^\{env:[A-Za-z_][A-Za-z0-9_]*\}$/;

export const providerSchema = z
  .object({
    id: z.string().regex(providerIdPattern, 'must be letters, digits, - or _'),
    name: z.string().optional(),
    /** Default `openai-compatible`. */
    kind: z.enum(providerKinds).optional(),
    baseURL: z.string().url(),
    /** A literal key is refused: reference an environment variable as `{env:NAME}`. */
    apiKey: z.string().regex(envReferencePattern, 'must be {env:NAME}; keys never go in settings').optional(),
    models: z.record(
      z.string(),
      z
        .object({
          name: z.string().optional(),
          toolCall: z.boolean().optional(),
          context: z.number().int().positive().optional(),
          output: z.number().int().positive().optional(),
        })
        .strict(),
    ),
  })
  .strict();
export type ProviderSetting = z.infer<typeof providerSchema>;
