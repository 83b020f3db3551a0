// Floors for the MCP benchmarks: the same SDK over stdio, spawned like `node dist/cli.js`, with tools that
// do no work. `payload` returns the output of `seq 1 50000` the way execute_command must (in the text block
// and again in structuredContent), so the cost of carrying that much JSON through stdio has a floor too.
// Plain .mjs so it starts with exactly the flags of `node dist/cli.js` (no tsx loader).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

let seq = '';
for (let i = 1; i <= 50_000; i++) seq += `${i}\n`;

const server = new McpServer({ name: 'noop', version: '0.0.0' });
server.registerTool('noop', { description: 'Does nothing.' }, async () => ({
  content: [{ type: 'text', text: 'ok' }],
}));
server.registerTool(
  'payload',
  { description: 'Returns seq 1 50000 twice.', outputSchema: { output: z.string() } },
  async () => ({ content: [{ type: 'text', text: seq }], structuredContent: { output: seq } }),
);
await server.connect(new StdioServerTransport());
