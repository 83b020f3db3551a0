// The server under test: the BUILT dist/cli.js over stdio with the SDK Client, as an agent runs it.
import { mkdirSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI, NODE_FLAGS } from '../support/mcp-client.js';
import { alive, exitedOrExiting, kill, rssKb } from './procs.js';

export type Call =
  | { ok: true; result: CallToolResult; ms: number }
  | { ok: false; error: string; timedOut: boolean; ms: number };

export interface SoakServer {
  pid: number;
  /** A private TMPDIR: whatever the server leaves there (spill folders) is its own. */
  tmpDir: string;
  /** Never throws: a timeout or transport error is part of the answer. */
  call(name: string, args: Record<string, unknown>, boundMs: number): Promise<Call>;
  rssKb(): number;
  stderrTail(): string;
  /** Close stdin (the server's normal shutdown) and wait; SIGKILL past `boundMs`. True if it exited in time. */
  stop(boundMs?: number): Promise<boolean>;
  /** SIGTERM and wait; SIGKILL past `boundMs`. True if it exited in time. */
  terminate(boundMs: number): Promise<boolean>;
}

/** Every server still running, for the runner's emergency cleanup. */
export const liveServers = new Set<number>();

export interface ServerStart {
  home: string;
  tmpDir: string;
  args?: string[];
  /** A prefix that runs the server elsewhere, e.g. ['ip', 'netns', 'exec', NAME]. */
  wrap?: string[];
}

export async function startServer(start: ServerStart): Promise<SoakServer> {
  mkdirSync(start.tmpDir, { recursive: true });
  let stderr = '';
  const argv = [...(start.wrap ?? []), process.execPath, ...NODE_FLAGS, CLI, ...(start.args ?? [])];
  const transport = new StdioClientTransport({
    command: argv[0] as string,
    args: argv.slice(1),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: start.home,
      TMPDIR: start.tmpDir,
      MCP_SSH_SESSION_LOG_LEVEL: 'warn',
      MCP_SSH_TOOLS: 'all',
    },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-16_384);
  });
  const client = new Client({ name: 'soak', version: '0' });
  await client.connect(transport, { timeout: 20_000 });
  // Listing the tools makes the client check every structuredContent against its output schema.
  await client.listTools(undefined, { timeout: 20_000 });
  const pid = transport.pid;
  if (pid === null) throw new Error('the server has no pid');
  liveServers.add(pid);

  const exited = async (boundMs: number) => {
    const deadline = Date.now() + boundMs;
    while (alive(pid) && Date.now() < deadline) await delay(25);
    const inTime = !alive(pid);
    if (!inTime) kill([pid]);
    for (let i = 0; i < 200 && alive(pid); i++) await delay(25);
    liveServers.delete(pid);
    return inTime;
  };

  return {
    pid,
    tmpDir: start.tmpDir,
    async call(name, args, boundMs) {
      const t0 = Date.now();
      try {
        const result = (await client.callTool({ name, arguments: args }, undefined, {
          timeout: boundMs,
        })) as CallToolResult;
        return { ok: true, result, ms: Date.now() - t0 };
      } catch (error) {
        const message = (error as Error).message;
        return {
          ok: false,
          error: message,
          timedOut: /timed out|timeout/i.test(message),
          ms: Date.now() - t0,
        };
      }
    },
    rssKb: () => rssKb(pid),
    stderrTail: () => stderr,
    async stop(boundMs = 5_000) {
      // The SDK's close ends stdin, waits 2 s, then sends SIGTERM, 2 s later SIGKILL: a server that has
      // not exited by then did not exit on stdin closing, as a client expects.
      const deadline = Date.now() + STDIN_EXIT_MS;
      const onStdinClose = (async () => {
        while (!exitedOrExiting(pid) && Date.now() < deadline) await delay(10);
        return exitedOrExiting(pid);
      })();
      await client.close().catch(() => {});
      return (await onStdinClose) && (await exited(boundMs));
    },
    async terminate(boundMs) {
      kill([pid], 'SIGTERM');
      const inTime = await exited(boundMs);
      await client.close().catch(() => {});
      return inTime;
    },
  };
}

/** Under the SDK client's 2 s wait before it sends SIGTERM. */
const STDIN_EXIT_MS = 1_900;

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}
