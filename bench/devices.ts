// The network-device group: `show running-config` (5,000 lines) from the Cisco IOS simulator through the built
// server over MCP, next to a raw ssh2 shell on the same simulator, with the time from the last byte the
// simulator sent to the result at the client; and the in-process cost of the expect runner's prompt matching
// per MiB, next to a bare decode loop over the same chunks.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Client, type ClientChannel } from 'ssh2';
import { DialectRegistry } from '../src/dialect/loader.js';
import { ExpectRunner, type ShellChannel } from '../src/expect/runner.js';
import {
  type ChunkingOptions,
  type DeviceProfile,
  type OutputSink,
  Terminal,
  toCrlf,
} from '../test/simulators/cli-engine.js';
import { type DeviceSimulator, startDeviceSimulator } from '../test/simulators/device-sim.js';
import { iosProfile, iosRunningConfig } from '../test/simulators/ios.js';
import { type McpProcess, SERVER_CLI, spawnMcp, WHOLE_RESULTS } from './mcp.js';
import { type Also, type Case, check, measure, now, present } from './measure.js';
import { withTimeout } from './raw-ssh.js';
import { p50, type Ratio, type Row } from './report.js';

export const HOSTNAME = 'bench-rtr1';
export const CONFIG_LINES = 5000;
/** Bytes of that configuration as the server returns it (LF line ends). */
export const CONFIG_BYTES = Buffer.byteLength(iosRunningConfig(HOSTNAME, CONFIG_LINES));
const COMMAND = 'show running-config';
const MIB = 1024 * 1024;
/** Prompt matching is fed this much config text, in pieces of CHUNK bytes. */
export const MATCH_BYTES = 10 * MIB;
const CHUNK = 4096;

/** The two ways the simulator delivers output: its default trickle, and large pieces back to back. */
export const SMALL_PIECES = { label: '17-64 B pieces', chunking: true } as const;
export const LARGE_PIECES = {
  label: '0.5-4 KiB pieces',
  chunking: { minBytes: 512, maxBytes: 4096, maxGapMs: 0 } satisfies ChunkingOptions,
} as const;

export interface DeviceOptions {
  quick: boolean;
  floorsOnly: boolean;
  /** Registers a clean-up step; the caller runs them in reverse order, also on failure. */
  defer: (fn: () => unknown) => void;
}

/** Runs the device groups into `rows`; returns the ratios of the section. */
export async function deviceBenchmarks(rows: Row[], o: DeviceOptions): Promise<Ratio[]> {
  const small = await startIos(SMALL_PIECES.chunking);
  o.defer(() => small.sim.close());
  const large = await startIos(LARGE_PIECES.chunking);
  o.defer(() => large.sim.close());

  let server: McpProcess | undefined;
  if (!o.floorsOnly) {
    // A HOME of its own: the server records the simulators' host keys in its known_hosts (accept-new).
    const home = mkdtempSync(path.join(tmpdir(), 'bench-devices-home-'));
    o.defer(() => rmSync(home, { recursive: true, force: true }));
    mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    server = await spawnMcp(SERVER_CLI, home, undefined, WHOLE_RESULTS);
    o.defer(() => server?.close());
  }
  const parsed = server ? clockResponses(server) : () => Number.NaN;
  const rawSmall = await RawDeviceShell.open(small.sim);
  o.defer(() => rawSmall.close());
  const rawLarge = await RawDeviceShell.open(large.sim);
  o.defer(() => rawLarge.close());

  // About 3.5 s a run with the trickle (the simulator's pacing), a few ms with large pieces.
  await measure(
    rows,
    devicePair('iosSmall', SMALL_PIECES.label, small, rawSmall, server, parsed, 15, 2),
    300_000,
    o.quick,
  );
  await measure(
    rows,
    devicePair('iosLarge', LARGE_PIECES.label, large, rawLarge, server, parsed, 50, 5),
    90_000,
    o.quick,
  );

  const matching = await promptMatching();
  await measure(
    rows,
    present([
      {
        key: 'decode',
        label: 'StringDecoder + Buffer.concat (ms/MiB)',
        n: 20,
        warmup: 3,
        run: matching.floor,
      },
      !o.floorsOnly && {
        key: 'match',
        label: 'ExpectRunner prompt matching (ms/MiB)',
        n: 20,
        warmup: 3,
        run: matching.runner,
      },
    ]),
    120_000,
    o.quick,
  );

  const at = (key: string) => p50(rows.find((r) => r.key === key));
  const perPieces = ([key, label]: [string, string]): Ratio[] => [
    {
      label: `last byte to result, ${label}`,
      unit: 'ms',
      value: at(`${key}.gap`),
      formula: 'last byte to result p50',
      target: 5,
    },
    {
      label: `show run via MCP / raw ssh2, ${label}`,
      unit: 'x',
      value: at(key) / at(`${key}Raw`),
      formula: 'execute_command p50 / raw ssh2 shell p50',
    },
  ];
  return [
    ...perPieces(['iosSmall', SMALL_PIECES.label]),
    ...perPieces(['iosLarge', LARGE_PIECES.label]),
    {
      label: 'prompt matching / decode loop',
      unit: 'x',
      value: at('match') / at('decode'),
      formula: 'ExpectRunner p50 / decode loop p50',
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------
// The simulator, with a clock on its send path
// ---------------------------------------------------------------------------------------------------------

interface ClockedSimulator {
  sim: DeviceSimulator;
  /** performance.now() when the simulator last handed output to the ssh2 channel. */
  lastSent(): number;
}

/**
 * The IOS simulator with every piece of output clocked. Its Terminal passes each piece to a sink that writes
 * it to the ssh2 channel synchronously (ssh2 encrypts it and writes it to the socket in the same call, as long
 * as the channel window is open); under back-pressure the sink returns a promise that resolves on 'drain', and
 * that moment is taken instead. The profile's createShell(term, ...) gets each Terminal before it is used:
 * its sink is wrapped there. No simulator code is changed.
 */
async function startIos(chunking: true | ChunkingOptions): Promise<ClockedSimulator> {
  // The sink is a private field of Terminal: make sure it is still where this wrapper expects it.
  if (typeof (new Terminal(() => undefined) as unknown as { sink?: unknown }).sink !== 'function') {
    throw new Error('bench: the simulator Terminal no longer keeps its output sink in `sink`');
  }
  let lastSent = Number.NaN;
  const stamp = () => {
    lastSent = now();
  };
  const profile = iosProfile({
    hostname: HOSTNAME,
    enableSecret: null,
    runningConfigLines: CONFIG_LINES,
    chunking,
    seed: 1,
  });
  const clocked: DeviceProfile = {
    ...profile,
    createShell(term, session) {
      const t = term as unknown as { sink: OutputSink };
      const sink = t.sink;
      t.sink = (data) => {
        const drained = sink(data);
        stamp();
        return drained ? drained.then(stamp) : drained;
      };
      return profile.createShell(term, session);
    },
  };
  const sim = await startDeviceSimulator(clocked);
  return { sim, lastSent: () => lastSent };
}

// ---------------------------------------------------------------------------------------------------------
// The floor: a raw ssh2 shell on the same simulator
// ---------------------------------------------------------------------------------------------------------

/** A pty shell on the simulator driven by hand: paging off, enabled, then one command per run. */
class RawDeviceShell {
  private buf = '';
  private waiting?: () => void;
  /** performance.now() of the data event that completed the last awaited text. */
  arrived = Number.NaN;

  private constructor(
    private readonly client: Client,
    private readonly channel: ClientChannel,
  ) {
    channel.setEncoding('utf8');
    channel.on('data', (d: string) => {
      this.buf += d;
      this.waiting?.();
    });
  }

  static async open(sim: DeviceSimulator, timeoutMs = 10_000): Promise<RawDeviceShell> {
    const sock = netConnect(sim.port, sim.host);
    sock.setNoDelay(true);
    const client = new Client();
    const ready = new Promise<Client>((resolve, reject) => {
      client.once('ready', () => resolve(client)).once('error', reject);
      client.connect({ sock, username: sim.username, password: sim.password, readyTimeout: timeoutMs });
    });
    await withTimeout(ready, timeoutMs, 'ssh connect to the simulator', () => client.end());
    try {
      const channel = await withTimeout(
        new Promise<ClientChannel>((resolve, reject) =>
          client.shell({ term: 'vt100', cols: 511, rows: 24 }, (err, ch) =>
            err ? reject(err) : resolve(ch),
          ),
        ),
        timeoutMs,
        'open a shell on the simulator',
      );
      const shell = new RawDeviceShell(client, channel);
      await shell.until(`${HOSTNAME}>`, timeoutMs);
      await shell.run('terminal length 0', `\r\n${HOSTNAME}>`, timeoutMs);
      await shell.run('terminal width 512', `\r\n${HOSTNAME}>`, timeoutMs);
      await shell.run('enable', `\r\n${HOSTNAME}#`, timeoutMs);
      return shell;
    } catch (err) {
      client.end();
      throw err;
    }
  }

  /** Sends `command` and a line end; resolves with everything up to and including `tail`. */
  run(command: string, tail: string, timeoutMs: number): Promise<string> {
    this.buf = '';
    const done = this.until(tail, timeoutMs);
    this.channel.write(`${command}\n`);
    return done;
  }

  private until(tail: string, timeoutMs: number): Promise<string> {
    const done = new Promise<string>((resolve) => {
      const test = () => {
        if (!this.buf.endsWith(tail)) return;
        this.arrived = now();
        this.waiting = undefined;
        const text = this.buf;
        this.buf = '';
        resolve(text);
      };
      this.waiting = test;
      test();
    });
    return withTimeout(done, timeoutMs, `raw device shell: waiting for ${JSON.stringify(tail)}`, () => {
      this.waiting = undefined;
    });
  }

  close(): void {
    this.waiting = undefined;
    this.client.end();
  }
}

// ---------------------------------------------------------------------------------------------------------
// show running-config through MCP and through the raw shell
// ---------------------------------------------------------------------------------------------------------

/**
 * performance.now() when the client transport last handed a parsed message to the SDK (the stdio transport
 * reads the pipe, splits lines and JSON.parses them, then calls onmessage): what follows until callTool
 * resolves is the SDK client's own work, mostly validating structuredContent against the output schema.
 */
function clockResponses(server: McpProcess): () => number {
  const transport = server.client.transport;
  const deliver = transport?.onmessage;
  if (!transport || !deliver) throw new Error('bench: the MCP client transport has no onmessage to clock');
  let at = Number.NaN;
  transport.onmessage = (message, extra) => {
    at = now();
    deliver.call(transport, message, extra);
  };
  return () => at;
}

const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

function devicePair(
  key: string,
  pieces: string,
  dev: ClockedSimulator,
  raw: RawDeviceShell,
  server: McpProcess | undefined,
  parsed: () => number,
  n: number,
  warmup: number,
): Case[] {
  let rawGap = Number.NaN;
  let mcpGap = Number.NaN;
  let serverMs = Number.NaN;
  let clientMs = Number.NaN;
  const gap = (k: string, label: string, value: () => number): Also => ({ key: `${k}.gap`, label, value });
  return present([
    {
      key: `${key}Raw`,
      label: `raw ssh2 shell show run, ${pieces}`,
      n,
      warmup,
      also: [gap(`${key}Raw`, '  last byte sent to prompt seen (info)', () => rawGap)],
      run: async () => {
        const t0 = now();
        const text = await raw.run(COMMAND, `\r\n${HOSTNAME}#`, 60_000);
        const ms = raw.arrived - t0;
        check(
          lineCount(text) >= CONFIG_LINES + 1 && text.endsWith(`\r\nend\r\n${HOSTNAME}#`),
          `raw show running-config (${lineCount(text)} lines)`,
          text.slice(-60),
        );
        rawGap = raw.arrived - dev.lastSent();
        return ms;
      },
    },
    server !== undefined && {
      key,
      label: `execute_command show run, ${pieces}`,
      n,
      warmup,
      also: [
        { key: `${key}.server`, label: '  of which durationMs in the server (info)', value: () => serverMs },
        gap(key, '  last byte sent to result at the client', () => mcpGap),
        {
          key: `${key}.client`,
          label: '    of which response parsed to result (info)',
          value: () => clientMs,
        },
      ],
      run: async () => {
        const t0 = now();
        const r = await server.call(
          'execute_command',
          {
            host: dev.sim.host,
            port: dev.sim.port,
            username: dev.sim.username,
            password: dev.sim.password,
            dialect: 'cisco-ios',
            command: COMMAND,
            enable_command: 'enable',
            timeout: 120,
          },
          130_000,
        );
        const arrived = now();
        const lastSent = dev.lastSent();
        const parsedAt = parsed();
        type Result = {
          output?: string;
          exitCode?: number | null;
          truncated?: boolean;
          mode?: string;
          durationMs?: number;
        };
        const s = r.structuredContent as Result | undefined;
        const out = s?.output ?? '';
        check(
          s?.exitCode === 0 &&
            !s.truncated &&
            s.mode === 'privileged' &&
            lineCount(out) >= CONFIG_LINES &&
            out.trimEnd().endsWith('\nend'),
          `execute_command ${COMMAND} (${lineCount(out)} lines)`,
          { ...s, output: out.slice(-60) },
        );
        check(lastSent > t0 && lastSent <= parsedAt && parsedAt <= arrived, 'the clocks', {
          t0,
          lastSent,
          parsedAt,
          arrived,
        });
        mcpGap = arrived - lastSent;
        clientMs = arrived - parsedAt;
        serverMs = s?.durationMs ?? Number.NaN;
        return arrived - t0;
      },
    },
  ]);
}

// ---------------------------------------------------------------------------------------------------------
// Prompt matching in process
// ---------------------------------------------------------------------------------------------------------

/** MATCH_BYTES of IOS configuration (CR LF), cut at the end of a line (the line end left off). */
function configText(): Buffer {
  // Lines grow with the interface numbers: 480,000 lines are well over 10 MiB.
  const all = Buffer.from(toCrlf(iosRunningConfig(HOSTNAME, 480_000)), 'latin1');
  if (all.length < MATCH_BYTES) throw new Error(`bench: config text is only ${all.length} bytes`);
  const end = all.lastIndexOf('\r\n', MATCH_BYTES - 1);
  return Buffer.from(all.subarray(0, end));
}

/**
 * An ExpectRunner on the cisco-ios dialect over a fake channel, opened as on a device (first prompt, then the
 * on_open steps, each answered with its echo and the prompt); then per sample one `show running-config`
 * whose echo, MATCH_BYTES of config in CHUNK-byte pieces and the prompt are fed synchronously. The floor
 * feeds the same pieces to a StringDecoder and keeps them (Buffer.concat at the end), nothing else.
 * Both return milliseconds per MiB fed.
 */
async function promptMatching(): Promise<{ runner: () => Promise<number>; floor: () => Promise<number> }> {
  const text = configText();
  const echo = Buffer.from(`${COMMAND}\r\n`);
  const prompt = Buffer.from(`\r\n${HOSTNAME}#`);
  const pieces: Buffer[] = [echo];
  for (let i = 0; i < text.length; i += CHUNK) pieces.push(text.subarray(i, i + CHUNK));
  pieces.push(prompt);
  const fed = pieces.reduce((sum, p) => sum + p.length, 0);
  const mib = fed / MIB;
  // The echo is dropped; CR LF becomes LF; the line end before the prompt belongs to the output.
  const expectedBytes = text.length - (text.toString('latin1').match(/\r\n/g)?.length ?? 0) + 1;

  const dialect = await new DialectRegistry().get('cisco-ios');
  let answering = true;
  let typed = '';
  const channel: ShellChannel = {
    write(data) {
      if (!answering) return;
      typed += data;
      for (let at = typed.indexOf('\n'); at >= 0; at = typed.indexOf('\n')) {
        const line = typed.slice(0, at).replace(/\r$/, '');
        typed = typed.slice(at + 1);
        setImmediate(() => runner.feed(Buffer.from(`${line}\r\n${HOSTNAME}#`)));
      }
    },
    execSide: async () => null,
    close() {},
  };
  const runner = new ExpectRunner(channel, dialect);
  const opened = runner.open(10_000);
  runner.feed(Buffer.from(`${HOSTNAME}#`));
  await withTimeout(opened, 15_000, 'opening the ExpectRunner');
  answering = false;
  check(runner.mode === 'privileged', 'ExpectRunner mode after open', runner.mode);

  return {
    runner: async () => {
      const outcome = runner.run(COMMAND, { timeoutMs: 60_000, maxOutputBytes: 64 * MIB });
      const t0 = now();
      for (const piece of pieces) runner.feed(piece);
      const r = await outcome;
      const ms = now() - t0;
      const { totalBytes, omittedBytes, tail, head } = r.output;
      check(
        r.exitCode === 0 &&
          r.mode === 'privileged' &&
          totalBytes === expectedBytes &&
          omittedBytes === 0 &&
          tail === '' &&
          head.startsWith('Building configuration...\n'),
        `ExpectRunner ${COMMAND} (${totalBytes} of ${expectedBytes} bytes)`,
        { ...r, output: { totalBytes, omittedBytes, end: (head + tail).slice(-60) } },
      );
      return ms / mib;
    },
    floor: async () => {
      const t0 = now();
      const decoder = new StringDecoder('utf8');
      const kept: Buffer[] = [];
      let decoded = '';
      for (const piece of pieces) {
        kept.push(piece);
        decoded += decoder.write(piece);
      }
      decoded += decoder.end();
      const whole = Buffer.concat(kept);
      const ms = now() - t0;
      check(whole.length === fed && decoded.length === fed, 'decode loop', [whole.length, decoded.length]);
      return ms / mib;
    },
  };
}
