// Baseline for the round-trip benchmark: a bare vscode-jsonrpc server over stdio that echoes.
const { createMessageConnection, StreamMessageReader, StreamMessageWriter } = require('vscode-jsonrpc/node');
const c = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
c.onRequest('initialize', () => ({ capabilities: {} }));
c.onRequest('echo', (p) => p);
c.listen();
