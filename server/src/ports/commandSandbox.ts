/** What agent adapters need from an OS sandbox (implemented by adapters/sandbox/bubblewrap.ts). */
export interface CommandSandbox {
  /** A bash-compatible executable that runs `-c <command>` confined (provider keys removed from its environment). */
  shellPath: string;
  /** Makes `folder` writable for commands run inside it until the returned function is called. */
  allow(folder: string): () => void;
}
