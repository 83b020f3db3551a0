// Floor for the MCP benchmarks: the same SDK over stdio with one tool that does nothing.
// Plain .mjs so it starts with exactly the flags of `node dist/cli.js` (no tsx loader).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

const server = new McpServer({ name: 'noop', version: '0.0.0' });
server.registerTool('noop', { description: 'Does nothing.' }, async () => ({
  content: [{ type: 'text', text: 'ok' }],
}));
await server.connect(new StdioServerTransport());
