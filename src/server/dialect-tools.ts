import { readFile } from 'node:fs/promises';
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { DialectRegistry } from '../dialect/loader.js';

/** list_dialects, and each dialect's YAML as the resource dialect://<name>. */
export function registerDialectTools(server: McpServer, dialects: DialectRegistry): void {
  server.registerTool(
    'list_dialects',
    {
      title: 'List dialects',
      description:
        "The dialects this server can speak (built-in and from user folders): pass one as execute_command's `dialect`. Each is readable as the resource dialect://<name>.",
      inputSchema: {},
      outputSchema: {
        dialects: z.array(
          z.object({
            name: z.string(),
            description: z.string(),
            source: z.string().describe('"builtin", or the file it was loaded from'),
            modes: z.array(z.string()),
          }),
        ),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async () => {
      const list = await dialects.list();
      const text = list
        .map(
          (d) =>
            `${d.name} (${d.source})${d.modes.length ? ` modes: ${d.modes.join(', ')}` : ''}: ${d.description}`,
        )
        .join('\n');
      return { content: [{ type: 'text', text }], structuredContent: { dialects: list } };
    },
  );

  server.registerResource(
    'dialect',
    new ResourceTemplate('dialect://{name}', {
      list: async () => ({
        resources: (await dialects.names()).map((name) => ({
          uri: `dialect://${name}`,
          name,
          mimeType: 'application/yaml',
        })),
      }),
    }),
    {
      title: 'Dialect file',
      description: 'The YAML that tells the runner how to talk to one kind of host.',
      mimeType: 'application/yaml',
    },
    async (uri, { name }) => {
      const file = await dialects.fileOf(String(name));
      return {
        contents: [{ uri: uri.href, mimeType: 'application/yaml', text: await readFile(file, 'utf8') }],
      };
    },
  );
}
