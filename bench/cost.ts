// What common calls cost a model: the sizes of their results (text block, structuredContent, the whole
// JSON-RPC response line on stdout), from the built server over stdio with the SDK Client. Sizes, not times:
// no floor, one call each, a few seconds in all.
import { type ChildProcess, spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { deserializeMessage, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { type SshdHarness, sshExec } from '../test/harness/sshd.js';
import { NODE_FLAGS } from '../test/support/mcp-client.js';
import { SERVER_CLI } from './mcp.js';
import { check } from './measure.js';

/** The server's stdout as it arrived: each line's bytes are counted before the line is parsed. */
class WireTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Bytes of the last response line (a message with an id and a result or an error), without its LF. */
  lastResponseBytes = 0;
  /** Notifications and requests from the server since the last response: how many, how many bytes. */
  otherLines = 0;
  otherBytes = 0;
  private child?: ChildProcess;
  private pending = Buffer.alloc(0);
  private stderrTail = '';

  constructor(
    private readonly args: string[],
    private readonly env: Record<string, string>,
  ) {}

  stderr(): string {
    return this.stderrTail;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, this.args, { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.on('error', (err) => this.onerror?.(err));
    child.on('close', () => this.onclose?.());
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4096);
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      for (let nl = this.pending.indexOf(10); nl >= 0; nl = this.pending.indexOf(10)) {
        const line = this.pending.subarray(0, nl);
        this.pending = this.pending.subarray(nl + 1);
        let message: JSONRPCMessage;
        try {
          message = deserializeMessage(line.toString('utf8'));
        } catch (err) {
          this.onerror?.(err as Error);
          continue;
        }
        if ('id' in message && ('result' in message || 'error' in message)) {
          this.lastResponseBytes = line.length;
        } else {
          this.otherLines++;
          this.otherBytes += line.length;
        }
        this.onmessage?.(message);
      }
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.child?.stdin?.write(serializeMessage(message));
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin?.end(); // the server stops when stdin closes
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

export interface CostRow {
  label: string;
  /** Characters (UTF-16 code units, as String.length counts them) of the text blocks; undefined: none. */
  textChars?: number;
  /** Lines of the text blocks (Codex cuts at 256). */
  textLines?: number;
  /** Characters of JSON.stringify(structuredContent) (for tools/list: of the tools array). */
  jsonChars?: number;
  /** Bytes of the whole JSON-RPC response line. */
  wireBytes: number;
  /** Notifications the server sent while the call ran (they are not in the sizes above). */
  notifications: { lines: number; bytes: number };
}

/** The 3 MB output: 2,250,000 random bytes in base64, 100 characters a line (30,000 lines). */
export const BIG_COMMAND = 'head -c 2250000 /dev/urandom | base64 -w 100';
export const BIG_BYTES = 3_030_000;
const BIG_FILE = 'bench-cost-3m.txt';

export async function costBenchmarks(sshd: SshdHarness): Promise<CostRow[]> {
  // The file for read_file, written by the system ssh client, not by the server under test.
  const made = await sshExec(sshd, `${BIG_COMMAND} > ${BIG_FILE} && wc -c < ${BIG_FILE}`);
  check(made.code === 0 && Number(made.stdout.trim()) === BIG_BYTES, 'writing the 3 MB file', made);

  const transport = new WireTransport([...NODE_FLAGS, SERVER_CLI], {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: sshd.clientHome,
    // Every tool, so each call below is offered; tools/list is then the full set (the default set is
    // measured by test/e2e/toolsets.test.ts: at most 16,000 characters).
    MCP_SSH_TOOLS: 'all',
  });
  const client = new Client({ name: 'bench-cost', version: '0' });
  const rows: CostRow[] = [];
  const take = () => {
    const notifications = { lines: transport.otherLines, bytes: transport.otherBytes };
    transport.otherLines = 0;
    transport.otherBytes = 0;
    return { wireBytes: transport.lastResponseBytes, notifications };
  };
  const call = async (label: string, name: string, args: Record<string, unknown> = {}) => {
    take();
    const r = (await client.callTool({ name, arguments: args }, undefined, {
      timeout: 60_000,
    })) as CallToolResult;
    if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}\n${transport.stderr()}`);
    const texts = r.content.filter((c) => c.type === 'text');
    rows.push({
      label,
      ...(texts.length > 0 && {
        textChars: texts.reduce((n, c) => n + c.text.length, 0),
        textLines: texts.reduce((n, c) => n + c.text.split('\n').length, 0),
      }),
      ...(r.structuredContent !== undefined && { jsonChars: JSON.stringify(r.structuredContent).length }),
      ...take(),
    });
    return r;
  };

  try {
    await client.connect(transport, { timeout: 20_000 });
    take();
    const { tools } = await client.listTools(undefined, { timeout: 20_000 });
    rows.push({
      label: `tools/list (--tools all, ${tools.length} tools)`,
      jsonChars: JSON.stringify(tools).length,
      ...take(),
    });
    // What a model is given of each tool: Claude's API takes name, description and input schema.
    const given = tools.map((t) => ({
      name: t.name,
      description: t.description,
      input_schema: t.inputSchema,
    }));
    rows.push({
      label: '  of which name + description + inputSchema',
      jsonChars: JSON.stringify(given).length,
      wireBytes: Number.NaN,
      notifications: { lines: 0, bytes: 0 },
    });

    const exec = (command: string, timeout = 60) =>
      call(`execute_command \`${command}\``, 'execute_command', { host: 'testhost', command, timeout });
    const hi = await exec('echo hi');
    check((hi.structuredContent as { output?: string })?.output === 'hi\n', 'echo hi', hi.structuredContent);
    await exec(BIG_COMMAND);
    rows[rows.length - 1] = {
      ...(rows.at(-1) as CostRow),
      label: 'execute_command, 3 MB of output (base64)',
    };
    await call('read_file of a 3 MB file', 'read_file', { host: 'testhost', remote_path: `~/${BIG_FILE}` });
    // One command still running, so the running list is not empty (it ends with the server).
    const sleeping = await exec('sleep 120', 0.5);
    check((sleeping.structuredContent as { status?: string })?.status === 'running', 'sleep 120', sleeping);
    rows.pop();
    await call('list_sessions (1 session)', 'list_sessions');
    await call('list_command_history (3 commands)', 'list_command_history');
    await call('list_running_commands (1 running)', 'list_running_commands');
    await call('list_hosts (1 host in ~/.ssh/config)', 'list_hosts');
    await call('list_dialects (the built-in ones)', 'list_dialects');
  } finally {
    await client.close().catch(() => {});
    await sshExec(sshd, `rm -f ${BIG_FILE}`).catch(() => {});
  }
  return rows;
}
