/**
 * What waits on the user that only the extension knows: permission asks shown and not answered, and
 * sessions whose apply was refused over the user's uncommitted edits. The Sessions view's badge and the
 * status bar count them with the sessions' own waits (`views/activity.ts`).
 */
import * as vscode from 'vscode';
import { RefusedApplies, type StateStore } from './refusedApplies';
import type { UserWaits } from './views/activity';

export class UserWaitsTracker implements vscode.Disposable {
  private asks = 0;
  private readonly conflicts: RefusedApplies;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  /** `store`: the workspace state, so a refused apply still waits after a window reload. */
  constructor(store?: StateStore) {
    this.conflicts = new RefusedApplies(store);
  }

  current(): UserWaits {
    return { permissionAsks: this.asks, applyConflicts: this.conflicts.ids() };
  }

  /** A permission ask is shown; call the answer once it is answered, dismissed or timed out. */
  askOpened(): () => void {
    this.asks++;
    this.changed.fire();
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.asks--;
      this.changed.fire();
    };
  }

  /** The session's apply was refused because uncommitted edits overlap its files. */
  applyRefused(sessionId: string): void {
    if (this.conflicts.add(sessionId)) this.changed.fire();
  }

  /** The session was applied or deleted: its refused apply no longer waits. */
  applyCleared(sessionId: string): void {
    if (this.conflicts.delete(sessionId)) this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
