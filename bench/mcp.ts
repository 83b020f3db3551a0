// MCP servers over stdio, the built one and the no-op floor, spawned the same way: `node <flags> <script>`.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { NODE_FLAGS } from '../test/support/mcp-client.js';

export const SERVER_CLI = new URL('../dist/cli.js', import.meta.url).pathname;
export const NOOP_SERVER = new URL('./noop-server.mjs', import.meta.url).pathname;
/**
 * For the timing cases: the whole output in one result (seq's 589 KB, a 115 KB running-config), as they
 * time carrying it; the default of 100 kB per result would cut it.
 */
export const WHOLE_RESULTS = ['--max-result-bytes', '400000'];

export interface McpProcess {
  client: Client;
  /** The server process, for its resident memory. */
  pid: number | undefined;
  /** Names from tools/list. */
  tools: string[];
  call(name: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<CallToolResult>;
  /** The last few KB the server wrote to stderr, for error messages. */
  stderr(): string;
  close(): Promise<void>;
}

/**
 * Spawns `node script [args]` with HOME=home and the default log level, completes the MCP handshake and lists the
 * tools, as an agent does (the SDK client then validates structuredContent against each output schema).
 * `nodeFlags` go before the script, after the usual ones (e.g. --cpu-prof).
 */
export async function spawnMcp(
  script: string,
  home: string,
  timeoutMs = 20_000,
  args: string[] = [],
  nodeFlags: string[] = [],
): Promise<McpProcess> {
  let stderr = '';
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...NODE_FLAGS, ...nodeFlags, script, ...args],
    // Every tool, as the benchmarks were measured with before tool sets.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, MCP_SSH_TOOLS: 'all' },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4096);
  });
  const client = new Client({ name: 'bench', version: '0' });
  const close = () => client.close().catch(() => {});
  let tools: string[];
  try {
    await client.connect(transport, { timeout: timeoutMs });
    tools = (await client.listTools(undefined, { timeout: timeoutMs })).tools.map((t) => t.name);
  } catch (err) {
    await close();
    throw new Error(`${script} did not start: ${(err as Error).message}\n${stderr}`);
  }
  const call = async (name: string, args: Record<string, unknown> = {}, timeout = 60_000) => {
    const result = (await client.callTool({ name, arguments: args }, undefined, {
      timeout,
    })) as CallToolResult;
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}\n${stderr}`);
    return result;
  };
  return { client, pid: transport.pid ?? undefined, tools, call, stderr: () => stderr, close };
}
