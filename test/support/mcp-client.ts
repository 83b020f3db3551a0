import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult, ClientCapabilities, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { tempDir } from './temp.js';

export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
/**
 * The node flags the server is started with (package.json start, dist/cli.js's first line, the README's
 * client set-up): a 1 MB young generation keeps each idle session under 100 KB of resident memory.
 */
export const NODE_FLAGS = ['--max-semi-space-size=4'];

export interface ServerStart {
  /** Environment beyond PATH, HOME and the debug log level. */
  env?: Record<string, string>;
  /** Arguments to the CLI, e.g. ['--config', file]. */
  args?: string[];
  /** What the client declares (e.g. URL elicitation); set handlers on `client` before calls need them. */
  capabilities?: ClientCapabilities;
}

/** The built server, spawned over stdio as an MCP client would, with HOME pointing at a test home. */
export async function startServer(home: string, start: ServerStart = {}) {
  const stderr: string[] = [];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...NODE_FLAGS, CLI, ...(start.args ?? [])],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      MCP_SSH_SESSION_LOG_LEVEL: 'debug',
      ...start.env,
    },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const client = new Client({ name: 'e2e', version: '0' }, { capabilities: start.capabilities ?? {} });
  await client.connect(transport);
  const taps = new Set<(message: JSONRPCMessage) => void>();
  const dispatch = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage) => {
    for (const tap of taps) tap(message);
    dispatch?.(message);
  };
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
  return {
    client,
    call,
    /**
     * Sees each message from the server in the order it arrived, before the SDK dispatches it: the SDK runs a
     * notification's handler a microtask after it, but a response's at once, so the progress notification
     * just before an answer can miss its handler (typescript-sdk#2580). Returns the way to stop.
     */
    tap: (fn: (message: JSONRPCMessage) => void) => {
      taps.add(fn);
      return () => taps.delete(fn);
    },
    pid: transport.pid,
    stderr: () => stderr.join(''),
    close: () => client.close(),
  };
}

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

/** The built server with a client HOME of its own (an empty ~/.ssh), removed again on close. */
export async function startServerInTempHome(start: ServerStart = {}) {
  const home = tempDir('mcp-home-');
  mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
  const server = await startServer(home, start);
  return {
    ...server,
    home,
    close: async () => {
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
