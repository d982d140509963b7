/**
 * Token counts with gpt-tokenizer's `o200k_base` encoding (GPT-4o family; pure JavaScript, the BPE ranks
 * ship inside the package, nothing is downloaded). Other models' tokenizers differ by some percent; the
 * count is used for the context-length filter and the stats, not for billing.
 */
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { TokenCounterPort } from '../../ports/datasetTools';

export class GptTokenCounter implements TokenCounterPort {
  readonly encoding = 'o200k_base';
  count(text: string): number {
    return text ? countTokens(text) : 0;
  }
}
