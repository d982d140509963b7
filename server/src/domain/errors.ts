/**
 * Typed domain errors. Callers switch on `reason`, never on the message text.
 */
export type DomainErrorReason =
  'store_corrupt' | 'store_read_only' | 'not_found' | 'conflict' | 'bad_input' | 'agent_unavailable' | 'agent_disabled' | 'timeout';

export class DomainError extends Error {
  constructor(
    readonly reason: DomainErrorReason,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static is(e: unknown, reason?: DomainErrorReason): e is DomainError {
    return e instanceof DomainError && (reason === undefined || e.reason === reason);
  }
}
