/**
 * Hosted fine-tune providers' job states → ours. Pure. Unknown states read as `running` only while the
 * provider has not said the job ended: a state we do not know is never taken as success.
 */
import type { FineTuneState } from '../../../../protocol/finetune';

export type HostedShape = 'openai-compatible' | 'together' | 'fireworks';
export const hostedShapes: readonly HostedShape[] = ['openai-compatible', 'together', 'fireworks'];

const maps: Record<HostedShape, Record<string, FineTuneState>> = {
  // openai/openai-node fine-tuning/jobs: validating_files | queued | running | succeeded | failed | cancelled
  'openai-compatible': {
    validating_files: 'queued',
    queued: 'queued',
    running: 'running',
    succeeded: 'succeeded',
    failed: 'failed',
    cancelled: 'cancelled',
  },
  // Together fine-tunes: pending | queued | running | compressing | uploading | cancel_requested | cancelled | error | completed
  together: {
    pending: 'queued',
    queued: 'queued',
    running: 'running',
    compressing: 'running',
    uploading: 'running',
    cancel_requested: 'running',
    cancelled: 'cancelled',
    error: 'failed',
    user_error: 'failed',
    completed: 'succeeded',
  },
  // Fireworks supervisedFineTuningJobs: JOB_STATE_*
  fireworks: {
    JOB_STATE_CREATING: 'queued',
    JOB_STATE_PENDING: 'queued',
    JOB_STATE_VALIDATING: 'queued',
    JOB_STATE_RUNNING: 'running',
    JOB_STATE_WRITING_RESULTS: 'running',
    JOB_STATE_COMPLETED: 'succeeded',
    JOB_STATE_FAILED: 'failed',
    JOB_STATE_FAILED_CLEANING_UP: 'failed',
    JOB_STATE_EXPIRED: 'failed',
    JOB_STATE_CANCELLED: 'cancelled',
    JOB_STATE_DELETING: 'cancelled',
  },
};

/** Our state for the provider's; unknown strings are `running` (keep polling until the deadline). */
export function mapHostedState(shape: HostedShape, remote: unknown): FineTuneState {
  return (typeof remote === 'string' && maps[shape][remote]) || 'running';
}

/** `text` with every occurrence of `secret` replaced (provider messages may echo what they were sent). */
export function redact(text: string, secret: string | undefined): string {
  return secret && secret.length >= 4 ? text.split(secret).join('***') : text;
}
