// The HTTP floor: bench/noop-server.mjs's no-op tool served over the same SDK's Streamable HTTP transport
// (StreamableHTTPServerTransport, stateful sessions, SSE responses as the SDK defaults to) on a bare
// node:http server on 127.0.0.1 - no express, no authentication, no logging. What is left of a tool call
// over HTTP when the server does nothing: the transport's own cost. Prints
// `listening on http://127.0.0.1:PORT/mcp` on stderr; SIGTERM ends it.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/** MCP session id -> its transport; a server speaks to one client, so one McpServer per session. */
const sessions = new Map();

async function open() {
  const server = new McpServer({ name: 'noop-http', version: '0.0.0' });
  server.registerTool('noop', { description: 'Does nothing.' }, async () => ({
    content: [{ type: 'text', text: 'ok' }],
  }));
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => sessions.set(id, transport),
  });
  transport.onclose = () => {
    if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
  };
  await server.connect(transport);
  return transport;
}

const http = createServer((req, res) => {
  const fail = (status, message) =>
    res
      .writeHead(status, { 'content-type': 'application/json' })
      .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
  if (new URL(req.url ?? '/', 'http://x').pathname !== '/mcp') return fail(404, 'not found');
  const id = req.headers['mcp-session-id'];
  const known = typeof id === 'string' ? sessions.get(id) : undefined;
  if (typeof id === 'string' && !known) return fail(404, 'Session not found');
  // Without a session id only an initialize may come (the transport itself refuses anything else).
  void (known ? Promise.resolve(known) : open())
    .then((transport) => transport.handleRequest(req, res))
    .catch((err) => fail(500, String(err?.message ?? err)));
});
http.listen(0, '127.0.0.1', () => {
  const { port } = http.address();
  process.stderr.write(`listening on http://127.0.0.1:${port}/mcp\n`);
});
process.once('SIGTERM', () => {
  for (const transport of sessions.values()) void transport.close();
  http.close(() => process.exit(0));
  http.closeAllConnections();
});
