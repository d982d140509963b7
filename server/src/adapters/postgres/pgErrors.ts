/**
 * What the PostgreSQL store says when the database is unreachable, goes away or is too slow, and how it
 * tells those from a statement PostgreSQL refused. Messages name the server, never its password.
 */

export type PgStoreErrorKind = 'unreachable' | 'connection_lost' | 'deadline';

/** The store could not reach PostgreSQL, lost it, or a deadline passed; `server` is the address without credentials. */
export class PgStoreError extends Error {
  constructor(
    readonly kind: PgStoreErrorKind,
    readonly server: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'PgStoreError';
  }

  static is(e: unknown, kind?: PgStoreErrorKind): e is PgStoreError {
    return e instanceof PgStoreError && (kind === undefined || e.kind === kind);
  }
}

/** `postgres://host:port/database`: what to name in messages and the status (never the password). */
export function describeServer(connectionString: string): string {
  try {
    const u = new URL(connectionString);
    return `postgres://${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'postgres://(unparsable address)';
  }
}

/** SQLSTATE classes and socket codes that mean the connection is gone, not that the statement was wrong. */
export function isConnectionFault(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (
    typeof code === 'string' &&
    (/^(08|57P)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code))
  )
    return true;
  const m = (e as Error)?.message ?? '';
  return /Connection terminated|Client has encountered a connection error|Connection ended|not queryable/i.test(m);
}
