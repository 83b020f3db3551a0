import { type ChildProcess, spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI, NODE_FLAGS } from './mcp-client.js';

export interface HttpServerStart {
  /** Arguments after `serve`, e.g. ['--config', file]; `--http 127.0.0.1:0` is added unless given. */
  args?: string[];
  env?: Record<string, string>;
  home: string;
}

export interface RunningHttpServer {
  /** http://127.0.0.1:PORT/mcp */
  url: URL;
  pid: number;
  process: ChildProcess;
  stderr(): string;
  /** SIGTERM, then SIGKILL after `ms`; resolves with the exit code. */
  stop(ms?: number): Promise<number | null>;
}

/** The built server with `serve --http`, its URL read from its start line (port 0 picks a free port). */
export async function startHttpServer(start: HttpServerStart): Promise<RunningHttpServer> {
  const args = start.args ?? [];
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, CLI, 'serve', ...(args.includes('--http') ? [] : ['--http', '127.0.0.1:0']), ...args],
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: start.home, ...start.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const err: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no start line in 30 s:\n${err.join('')}`));
    }, 30_000);
    const look = () => {
      const match = /listening on (http:\/\/\S+?\/mcp)/.exec(err.join(''));
      if (match) {
        clearTimeout(timer);
        child.stderr?.off('data', look);
        resolve(new URL(match[1] as string));
      }
    };
    child.stderr?.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${err.join('')}`));
    });
  });
  return {
    url,
    pid: child.pid as number,
    process: child,
    stderr: () => err.join(''),
    stop: async (ms = 10_000) => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** An SDK client over Streamable HTTP, with a bearer token when given. */
export async function httpClient(url: URL, token?: string) {
  const transport = new StreamableHTTPClientTransport(url, {
    ...(token && { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
  });
  const client = new Client({ name: 'e2e-http', version: '0' });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as CallToolResult;
  return { client, transport, call, close: () => client.close() };
}
