/**
 * Token counts with gpt-tokenizer's `o200k_base` encoding (GPT-4o family; pure JavaScript, the BPE ranks
 * ship inside the package, nothing is downloaded). Other models' tokenizers differ by some percent; the
 * count is used for the context-length filter and the stats, not for billing. The encoding costs about
 * 0.5 s and 70 MB to load, so it loads in `ready()` (a dynamic import), not when the server starts.
 */
import type { TokenCounterPort } from '../../ports/datasetTools';

type Count = (text: string) => number;
let loaded: Promise<Count> | undefined;

export class GptTokenCounter implements TokenCounterPort {
  readonly encoding = 'o200k_base';
  private countFn: Count | undefined;

  async ready(): Promise<void> {
    this.countFn ??= await (loaded ??= import('gpt-tokenizer/encoding/o200k_base').then((m) => m.countTokens));
  }

  count(text: string): number {
    if (!this.countFn) throw new Error('GptTokenCounter: await ready() before count()');
    return text ? this.countFn(text) : 0;
  }
}
