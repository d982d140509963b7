/**
 * Write faults: the errors a full, broken or read-only disk gives (ENOSPC, EIO, EACCES, …). Any of them
 * in the store or a transcript stops dispatching and puts the server in a degraded status; this module
 * only recognises and describes them (pure: it looks at the error's `code`, it does no I/O).
 */

/** errno codes that mean "this data folder cannot be written now". */
export const writeFaultCodes: readonly string[] = ['ENOSPC', 'EDQUOT', 'EIO', 'EACCES', 'EPERM', 'EROFS', 'EFBIG', 'EMFILE', 'ENFILE'];

/** The errno code when `e` is a write fault, else undefined. */
export function writeFaultCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && writeFaultCodes.includes(code) ? code : undefined;
}

/** One sentence for the status, the log and the CLI: what failed, where, and what to do. */
export function describeWriteFault(what: string, e: unknown): string {
  const code = writeFaultCode(e) ?? 'error';
  const detail = (e as Error)?.message ?? String(e);
  const hint =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'free disk space'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'make the data folder writable'
        : 'check the disk';
  return `Writing ${what} failed (${code}: ${detail}). Dispatching has stopped and nothing recorded was lost; ${hint}, then restart the server or run \`orchestrator resume\`.`;
}
