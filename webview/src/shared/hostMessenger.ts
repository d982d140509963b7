/**
 * The only way a webview reaches VS Code. Typed by the surface's protocol; swappable in tests.
 */
export interface HostMessenger<ToHost, FromHost, State> {
  post(message: ToHost): void;
  onMessage(listener: (message: FromHost) => void): void;
  getState(): State | undefined;
  setState(state: State): void;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export function createHostMessenger<ToHost, FromHost, State>(): HostMessenger<ToHost, FromHost, State> {
  const api = acquireVsCodeApi();
  return {
    post: (m) => api.postMessage(m),
    onMessage: (listener) => window.addEventListener('message', (e: MessageEvent) => listener(e.data as FromHost)),
    getState: () => (api.getState() as State | undefined) ?? undefined,
    setState: (s) => api.setState(s),
  };
}
