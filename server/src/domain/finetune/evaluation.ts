/**
 * The evaluator's output line (`server/python/eval_lora.py`): `{"event":"done","scores":{…}}`, checked before
 * anything is stored. Pure.
 */
import { z } from 'zod';
import type { EvaluationScores } from '../../../../protocol/model';
import { evaluationScoresSchema } from './records';

export interface EvaluationResult {
  examples: number;
  candidate: EvaluationScores;
  base: EvaluationScores;
  seconds: number;
}

const doneLine = z
  .object({
    event: z.literal('done'),
    scores: z
      .object({
        examples: z.number().int().min(1),
        turns: z.number().int().min(0),
        candidate: evaluationScoresSchema,
        base: evaluationScoresSchema,
        seconds: z.number(),
      })
      .strict(),
  })
  .strict();

/** The result in a stdout line of the evaluator, or undefined for any other line (progress, noise, a bad shape). */
export function parseEvaluatorLine(line: string): EvaluationResult | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = doneLine.safeParse(raw);
  if (!r.success) return undefined;
  const { examples, candidate, base, seconds } = r.data.scores;
  return { examples, candidate, base, seconds };
}
