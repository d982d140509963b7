/**
 * `vscode-languageclient`'s `State` values, so the extension's activation does not import the client library
 * (~0.5 MB of the bundle) just for an enum: it is imported when the server starts (issue 13).
 * `clientStates.test.ts` reads the library's own definition and fails when these differ.
 */
export const clientState = { stopped: 1, running: 2, starting: 3 } as const;
