/**
 * Opens OpenCode's instance of a folder it has not seen (a pre-created task worktree) before the first turn
 * there (issue 13, docs/performance.md). OpenCode starts most of a folder's services lazily on the first
 * prompt in it — the file watcher, the project-copy refresh and the location services (`find.files` starts
 * them), and the folder's snapshot repository (`git init`, its config, the first `add` + `write-tree`: a
 * `noReply` message reverted at once takes that snapshot). A throwaway session does it and is deleted: no model
 * request, no file changed (the revert of a message with no answer restores nothing).
 */
import type { OpencodeClient } from '@opencode-ai/sdk/v2';

/** The adapter's API call: a deadline on each request, errors as `AgentError`. */
export type OpencodeCall = <T>(
  what: string,
  fn: (c: OpencodeClient, o: { signal: AbortSignal; throwOnError: true }) => Promise<{ data: T }>,
) => Promise<T>;

export async function warmOpencodeFolder(call: OpencodeCall, cwd: string): Promise<void> {
  const session = await call('warm session', (c, o) => c.session.create({ directory: cwd, title: 'warm-up' }, o));
  try {
    const msg = (await call('warm message', (c, o) =>
      c.session.prompt({ sessionID: session.id, directory: cwd, noReply: true, parts: [{ type: 'text', text: 'warm-up' }] }, o),
    )) as { info?: { id?: string } };
    const messageID = msg.info?.id;
    await Promise.all([
      call('warm find', (c, o) => c.find.files({ directory: cwd, query: '.', limit: 1 }, o)),
      messageID ? call('warm snapshot', (c, o) => c.session.revert({ sessionID: session.id, directory: cwd, messageID }, o)) : undefined,
    ]);
  } finally {
    await call('warm delete', (c, o) => c.session.delete({ sessionID: session.id, directory: cwd }, o)).catch(() => undefined);
  }
}
