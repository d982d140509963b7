/**
 * ACP `session/request_permission` → the orchestrator's `PermissionRequest` (so the same `PermissionPolicy`
 * as OpenCode's judges it), and the policy's decision → one of the options the agent offered.
 *
 * ACP tool kinds map onto the policy's permission names: read → `read`; edit / delete / move → `edit`;
 * execute → `bash`; fetch → `webfetch`; search → `grep`; anything else keeps its kind (the policy asks).
 * Patterns: the paths the tool call names (locations, diff paths, path-like raw inputs), the command line for
 * execute, the URL for fetch. No patterns → the policy asks (it never allows what it cannot see).
 *
 * The exact ACP kind travels with the request (`toolKind`; no kind → `other`) and the command line of an
 * execute (`commandLine`): the policy judges by permission name, but "Always for this session" is keyed on
 * the exact kind, so a remembered `edit` of a file never covers a `delete` or `move` of it. Kinds whose asks
 * are never remembered (`other`, `fetch`, `think`, an `execute` without a command line) are listed in
 * `domain/permissionMemory.ts`.
 */
import type { PermissionRequest } from '../../ports/agentRuntime';
import type { ToolState } from './normalize';

const kindToPermission: Record<string, string> = {
  read: 'read',
  edit: 'edit',
  delete: 'edit',
  move: 'edit',
  execute: 'bash',
  fetch: 'webfetch',
  search: 'grep',
};

export function permissionOfKind(kind: string | undefined): string {
  return kindToPermission[kind ?? 'other'] ?? kind ?? 'other';
}

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' && x ? x : undefined);

function commandOf(raw: unknown): string | undefined {
  if (!isObj(raw)) return undefined;
  const c = raw.command ?? raw.cmd;
  if (typeof c === 'string') return c || undefined;
  if (Array.isArray(c) && c.every((w) => typeof w === 'string')) {
    const words = [c[0], ...(Array.isArray(raw.args) ? raw.args : []), ...c.slice(1)].filter((w): w is string => typeof w === 'string');
    return words.join(' ') || undefined;
  }
  return undefined;
}

function pathsOf(raw: unknown): string[] {
  if (!isObj(raw)) return [];
  const out: string[] = [];
  for (const k of ['file_path', 'filepath', 'filePath', 'path', 'abs_path', 'source', 'destination', 'target']) {
    const v = str(raw[k]);
    if (v) out.push(v);
  }
  return out;
}

/** Per-agent ways of reading a permission request, from the descriptor's `_meta.orchestrator.quirks`. */
export interface PermissionQuirks {
  /**
   * An execute tool call without a command in its raw input names the command line in its title (Gemini CLI
   * sends only `title` and `kind` with a shell command's permission request).
   */
  executeTitleIsCommand?: boolean;
}

export function toPermissionRequest(taskId: string, cwd: string, tool: ToolState, quirks: PermissionQuirks = {}): PermissionRequest {
  const permission = permissionOfKind(tool.kind);
  let patterns: string[];
  let commandLine: string | undefined;
  if (permission === 'bash') {
    commandLine = commandOf(tool.rawInput) ?? (quirks.executeTitleIsCommand ? str(tool.title.trim()) : undefined);
    patterns = commandLine ? [commandLine] : [];
  } else if (permission === 'webfetch') {
    const url = isObj(tool.rawInput) ? str(tool.rawInput.url) : undefined;
    patterns = url ? [url] : [];
  } else {
    patterns = [...new Set([...tool.locations, ...pathsOf(tool.rawInput)])];
  }
  return {
    runId: taskId,
    permission,
    patterns,
    toolKind: tool.kind ?? 'other',
    ...(commandLine ? { commandLine } : {}),
    toolCallId: tool.id,
    metadata: {
      title: tool.title,
      ...(tool.kind ? { kind: tool.kind } : {}),
      ...(tool.rawInput !== undefined ? { rawInput: tool.rawInput } : {}),
    },
    cwd,
  };
}

export interface PermissionOptionLike {
  optionId: string;
  kind: string;
}

/**
 * The option that carries out `decision`, once: allow → `allow_once` (never "always": every request is judged
 * on its own), deny → `reject_once`, then the "always" variant when the agent offers no "once".
 */
export function chooseOption(options: readonly PermissionOptionLike[], decision: 'allow' | 'deny'): string | undefined {
  const order = decision === 'allow' ? ['allow_once', 'allow_always'] : ['reject_once', 'reject_always'];
  for (const kind of order) {
    const o = options.find((x) => x.kind === kind);
    if (o) return o.optionId;
  }
  return undefined;
}
