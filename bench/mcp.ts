// MCP servers over stdio, the built one and the no-op floor, spawned the same way: `node <flags> <script>`;
// and over Streamable HTTP (`serve --http`, the HTTP no-op floor), with SDK clients holding a bearer token.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { NODE_FLAGS } from '../test/support/mcp-client.js';

export const SERVER_CLI = new URL('../dist/cli.js', import.meta.url).pathname;
export const NOOP_SERVER = new URL('./noop-server.mjs', import.meta.url).pathname;
export const NOOP_HTTP_SERVER = new URL('./noop-http-server.mjs', import.meta.url).pathname;
/**
 * For the timing cases: the whole output in one result (seq's 589 KB, a 115 KB running-config), as they
 * time carrying it; the default of 100 kB per result would cut it.
 */
export const WHOLE_RESULTS = ['--max-result-bytes', '400000'];

export interface McpProcess {
  client: Client;
  /** Names from tools/list. */
  tools: string[];
  call(name: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<CallToolResult>;
  /** The last few KB the server wrote to stderr, for error messages. */
  stderr(): string;
  /** The server process (over HTTP: the one process every client shares). */
  pid: number | undefined;
  close(): Promise<void>;
}

/** The client side of a connected MCP server: lists the tools, wraps callTool. */
async function connected(
  client: Client,
  connect: () => Promise<void>,
  what: string,
  stderr: () => string,
  timeoutMs: number,
) {
  const close = () => client.close().catch(() => {});
  let tools: string[];
  try {
    await connect();
    tools = (await client.listTools(undefined, { timeout: timeoutMs })).tools.map((t) => t.name);
  } catch (err) {
    await close();
    throw new Error(`${what} did not start: ${(err as Error).message}\n${stderr()}`);
  }
  const call = async (name: string, args: Record<string, unknown> = {}, timeout = 60_000) => {
    const result = (await client.callTool({ name, arguments: args }, undefined, {
      timeout,
    })) as CallToolResult;
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}\n${stderr()}`);
    return result;
  };
  return { client, tools, call, stderr, close };
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
  const mcp = await connected(
    client,
    () => client.connect(transport, { timeout: timeoutMs }),
    script,
    () => stderr,
    timeoutMs,
  );
  return { ...mcp, pid: transport.pid ?? undefined };
}

/** A server listening on HTTP, spawned as `node <flags> script args` with its stdin closed. */
export interface HttpProcess {
  /** http://127.0.0.1:PORT/mcp, from the line it printed on stderr. */
  url: URL;
  pid: number;
  /** The last few KB of its stderr (it logs every request there). */
  stderr(): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns an HTTP server with HOME=home, `env` on top of PATH and MCP_SSH_TOOLS=all (as spawnMcp), and waits
 * for `listening on http://.../mcp` on its stderr (the built server's JSON start line holds it too).
 */
export async function spawnHttp(
  script: string,
  args: string[],
  home: string,
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<HttpProcess> {
  const child = spawn(process.execPath, [...NODE_FLAGS, script, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, MCP_SSH_TOOLS: 'all', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let head: string | undefined = ''; // until the start line: everything, so the URL is found whatever the chunking
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4096);
    if (head !== undefined) head += d.toString();
  });
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const url = await new Promise<URL>((resolve, reject) => {
    const fail = (why: string) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`${script} ${why}:\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`printed no start line in ${timeoutMs} ms`), timeoutMs);
    const poll = setInterval(() => {
      const match = /listening on (http:\/\/\S+?\/mcp)/.exec(head ?? '');
      if (match) {
        clearInterval(poll);
        clearTimeout(timer);
        head = undefined;
        resolve(new URL(match[1] as string));
      } else if (child.exitCode !== null || child.signalCode !== null) fail('exited before listening');
    }, 10);
  }).catch(async (err: Error) => {
    await stop(1_000);
    throw err;
  });
  return { url, pid: child.pid as number, stderr: () => stderr, stop };
}

/** An SDK client over Streamable HTTP on `server`, sending `Authorization: Bearer token` when given. */
export async function connectHttp(
  server: HttpProcess,
  token?: string,
  timeoutMs = 20_000,
): Promise<McpProcess> {
  const transport = new StreamableHTTPClientTransport(server.url, {
    ...(token && { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
  });
  const client = new Client({ name: 'bench', version: '0' });
  const mcp = await connected(
    client,
    () => client.connect(transport, { timeout: timeoutMs }),
    server.url.href,
    server.stderr,
    timeoutMs,
  );
  return { ...mcp, pid: server.pid };
}

/** Resident memory of a process (VmRSS), in bytes; NaN when it is gone. */
export function rssBytes(pid: number | undefined): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? Number.NaN : Number(kb) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** Clock ticks per second of the times in /proc/PID/stat (USER_HZ). */
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/**
 * CPU time a process has used so far (user + system), in milliseconds; NaN when it is gone. `mainThread`:
 * its main thread only (a node process also runs V8's compiler and garbage-collector threads).
 */
export function cpuMs(pid: number | undefined, mainThread = false): number {
  try {
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold ') '): utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  } catch {
    return Number.NaN;
  }
}
