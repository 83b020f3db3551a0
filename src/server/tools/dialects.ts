import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { DIALECT_NAME, DialectError, type DialectRegistry, MAX_DIALECT_BYTES } from '../../dialect/loader.js';
import { readSmallFile, SmallFileError } from '../../util/small-file.js';
import { addTool } from '../tool-result.js';

/**
 * The YAML of dialect://<name>; a bad name, a missing dialect or a file that cannot be served is the
 * caller's error (-32602) with the reason, not an internal error with a path of any length.
 */
async function dialectText(dialects: DialectRegistry, name: string): Promise<string> {
  try {
    const file = await dialects.fileOf(name);
    return (await readSmallFile(file, MAX_DIALECT_BYTES, 'a dialect file served')).toString('utf8');
  } catch (error) {
    // A name that is not one is not echoed (it can be megabytes long): the error says so briefly.
    if (!DIALECT_NAME.test(name)) throw new McpError(ErrorCode.InvalidParams, (error as Error).message);
    if (error instanceof DialectError || error instanceof SmallFileError) {
      throw new McpError(ErrorCode.InvalidParams, `dialect ${name}: ${error.message}`);
    }
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new McpError(ErrorCode.InvalidParams, `dialect ${name}: its file cannot be read (${code})`);
  }
}

/** list_dialects, and each dialect's YAML as the resource dialect://<name>. */
export function registerDialectTools(server: McpServer, dialects: DialectRegistry): void {
  addTool(
    server,
    'list_dialects',
    {
      title: 'List dialects',
      description:
        "Dialects this server speaks (execute_command's dialect); each is the resource dialect://<name>.",
      inputSchema: {},
      outputSchema: {
        dialects: z.array(
          z.object({
            name: z.string(),
            description: z.string(),
            source: z.string().describe('builtin, or its file'),
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
      return { structured: { dialects: list }, text };
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
    async (uri, { name }) => ({
      contents: [
        { uri: uri.href, mimeType: 'application/yaml', text: await dialectText(dialects, String(name)) },
      ],
    }),
  );
}
