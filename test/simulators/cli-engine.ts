// Shared machinery for the network-device simulators (Cisco IOS, Arista EOS, Juniper Junos).
//
// Everything vendor-neutral lives here: the terminal line discipline (typed bytes, echo, CR/LF, ^C, ^Z,
// escape sequences), chunked output delivery, the pager state machine, a keyword-tree command parser with
// prefix matching (the "sh ver" style abbreviations all three CLIs accept), output filters and the REPL loop.
// The vendor files (ios.ts, eos.ts, junos.ts) only describe commands, prompts and messages.
//
// Behaviour is modelled on vendor documentation and on what Netmiko / scrapli / Ansible handle; it is
// deliberately NOT derived from this project's dialect files.

import { StringDecoder } from 'node:string_decoder';
import { setTimeout as delay } from 'node:timers/promises';

// ---------------------------------------------------------------------------------------------------------
// Profiles (what device-sim.ts needs to know about a simulated device)
// ---------------------------------------------------------------------------------------------------------

export type AuthMethod = 'password' | 'keyboard-interactive';

export interface ChunkingOptions {
  /** Smallest piece of output written at once (bytes). */
  minBytes: number;
  /** Largest piece of output written at once (bytes). */
  maxBytes: number;
  /** Pause between two pieces is a random 0..maxGapMs. */
  maxGapMs: number;
}

export const DEFAULT_CHUNKING: ChunkingOptions = { minBytes: 17, maxBytes: 64, maxGapMs: 2 };

/** Options every vendor factory understands. */
export interface CommonDeviceOptions {
  hostname?: string;
  username?: string;
  password?: string;
  /** Authentication methods offered (default password and keyboard-interactive, as IOS/EOS/Junos do). */
  authMethods?: AuthMethod[];
  /** Text printed after login, before the first prompt (login banner / MOTD). */
  banner?: string;
  /** Deliver output in small random pieces with small random gaps (true = DEFAULT_CHUNKING). */
  chunking?: boolean | Partial<ChunkingOptions>;
  /** Seed of the pseudo-random generator used for chunk sizes and gaps (deterministic runs). */
  seed?: number;
  /** The device echoes typed characters as it receives them (default true, pty-style CLI). */
  echo?: boolean;
  /** Append a space after the prompt character. */
  trailingSpaceInPrompt?: boolean;
  /** Paging active at login (default true). */
  pagingDefaultOn?: boolean;
  /** Lines per screen when paging is on (default 24: a page is 23 lines plus the pager prompt). */
  terminalLength?: number;
  /** Take screen length and width from the pty request / window-change instead of terminalLength / 80. */
  screenLengthFromPty?: boolean;
  /** Lines of `show running-config` / `show configuration` output (default 200). */
  runningConfigLines?: number;
  /** Pause inserted right after a line that looks like a prompt (false-prompt tests), default 50 ms. */
  falsePromptPauseMs?: number;
}

export interface SessionInfo {
  /** Authenticated user name. */
  username: string;
  /** Client address as the device would log it. */
  remoteAddress: string;
}

/** One CLI instance bound to one SSH channel. */
export interface DeviceShell {
  /** Interactive session (SSH `shell` request): banner, prompts, until logout or channel close. */
  run(): Promise<void>;
  /** Single command (SSH `exec` request); resolves with the exit status. */
  runCommand(command: string): Promise<number>;
}

export interface DeviceProfile {
  readonly vendor: 'cisco-ios' | 'arista-eos' | 'juniper-junos' | 'cisco-nxos';
  readonly username: string;
  readonly password: string;
  readonly authMethods: AuthMethod[];
  readonly terminal: TerminalOptions;
  createShell(term: Terminal, session: SessionInfo): DeviceShell;
  /** Device configuration state for tests (running configuration, pending confirm timer, history). */
  inspectConfig?(): ConfigInspection;
  /** Stops the device's timers (commit confirmed, revert timer); called by the simulator's close(). */
  dispose?(): void;
}

/** What `sim.configState()` returns: the device-wide configuration state. */
export interface ConfigInspection {
  /** Running (active) configuration: Junos `set` statements, IOS / EOS `show running-config` lines. */
  running: string[];
  /** A commit that rolls back by itself unless confirmed (Junos commit confirmed, EOS commit timer, IOS revert timer). */
  pending: {
    kind: 'commit-confirmed' | 'commit-timer' | 'revert-timer';
    /** Milliseconds left before the device rolls back (scaled by confirmMinuteMs). */
    remainingMs: number;
    /** Minutes as the device reports them (requested; EOS: timer converted to minutes). */
    minutes: number;
    /** EOS session name. */
    session?: string;
    user: string;
  } | null;
  /** Commits / checkpoints, newest first (Junos rollback numbers, EOS completed sessions, IOS archive files). */
  history: { id: string; user: string; time: string; comment?: string }[];
  /** Vendor extras: Junos candidate differences, EOS sessions, IOS archive files. */
  extra: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------

/** mulberry32: tiny deterministic PRNG so chunked runs are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Network CLIs are pty-style: every line ends in CR LF. */
export function toCrlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/** Splits command output into lines (a trailing newline does not produce an empty last line). */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Length of the last line of a prompt (the caret of an error marker is counted from its start). */
export function lastLineLength(prompt: string): number {
  const i = Math.max(prompt.lastIndexOf('\n'), prompt.lastIndexOf('\r'));
  return prompt.length - i - 1;
}

export function caretLine(column: number): string {
  return `${' '.repeat(Math.max(0, column))}^`;
}

// ---------------------------------------------------------------------------------------------------------
// Terminal: input line discipline + output delivery + pager
// ---------------------------------------------------------------------------------------------------------

/** Writes device output to the channel; resolves when the channel can take more. */
export type OutputSink = (data: Buffer) => Promise<void> | void;

export interface TerminalOptions {
  echo?: boolean;
  chunking?: boolean | Partial<ChunkingOptions>;
  seed?: number;
  screenLengthFromPty?: boolean;
}

export interface ReadLineOptions {
  /** Echo typed characters (default: the terminal's echo setting). Password prompts pass false. */
  echo?: boolean;
  /** Ctrl+Z ends the line with kind 'suspend' (IOS/EOS configuration modes). Otherwise it is ignored. */
  allowSuspend?: boolean;
  /**
   * Called when a space is typed; returning a string inserts (and echoes) it instead of the space.
   * Junos uses this for complete-on-space ("sh" + space becomes "show ").
   */
  completeOnSpace?: (buffer: string) => string | null;
  /** Extra bytes the device writes when Enter is pressed, before CR LF (EOS repeated echo / ANSI noise). */
  onEnter?: (line: string) => string;
  /** Ctrl+D ends the input with kind 'eof' (Junos `load ... terminal`); it is echoed as "^D". */
  eofOnCtrlD?: boolean;
}

export type LineResult =
  | { kind: 'line'; text: string }
  | { kind: 'interrupt'; text: string }
  | { kind: 'suspend'; text: string }
  | { kind: 'eof'; text: string }
  | { kind: 'closed' };

export type PagerAction = 'page' | 'line' | 'quit' | 'ignore';

export interface PagerStyle {
  /** Pager prompt; percent is null when the total size is not announced. */
  prompt(percent: number | null): string;
  /** Bytes written to remove the pager prompt before output continues. */
  erase(prompt: string): string;
  /** What a key pressed at the pager prompt does. */
  keyAction(key: string): PagerAction;
}

export class Terminal {
  /** False for SSH exec channels: no echo, no paging. */
  interactive = true;
  echo: boolean;
  rows = 24;
  cols = 80;
  termType = 'vt100';
  /** Lines per screen; 0 disables paging (`terminal length 0`, `set cli screen-length 0`). */
  screenLength = 24;
  screenWidth = 80;
  readonly screenLengthFromPty: boolean;

  private readonly chunking: ChunkingOptions | null;
  private readonly random: () => number;
  private readonly decoder = new StringDecoder('utf8');
  private outTail: Promise<void> = Promise.resolve();
  private readonly inQueue: string[] = [];
  private inPos = 0;
  private lastWasCr = false;
  private wake: (() => void) | null = null;
  private closed = false;
  private inputEnded = false;

  constructor(
    private readonly sink: OutputSink,
    opts: TerminalOptions = {},
  ) {
    this.echo = opts.echo ?? true;
    this.screenLengthFromPty = opts.screenLengthFromPty ?? false;
    this.random = prng(opts.seed ?? 1);
    const c = opts.chunking;
    this.chunking = c ? { ...DEFAULT_CHUNKING, ...(c === true ? {} : c) } : null;
  }

  /** Paging state at login: off, the pty's rows (screenLengthFromPty) or the profile's terminal length. */
  initPaging(on: boolean, length: number): void {
    this.screenLength = !on ? 0 : this.screenLengthFromPty ? this.rows : length;
  }

  /** pty-req / window-change. */
  resize(cols: number, rows: number): void {
    if (cols > 0) this.cols = cols;
    if (rows > 0) this.rows = rows;
    if (!this.screenLengthFromPty) return;
    if (rows > 0 && this.screenLength !== 0) this.screenLength = rows;
    if (cols > 0) this.screenWidth = cols;
  }

  // ---- input -------------------------------------------------------------------------------------------

  /** Bytes typed by the client. CR LF and CR NUL count as a single Enter (telnet-style NVT newline). */
  feed(data: Buffer | string): void {
    const text = typeof data === 'string' ? data : this.decoder.write(data);
    let kept = '';
    for (const ch of text) {
      if ((ch === '\n' || ch === '\0') && this.lastWasCr) {
        this.lastWasCr = false;
        continue;
      }
      this.lastWasCr = ch === '\r';
      kept += ch;
    }
    if (kept) this.inQueue.push(kept);
    this.notify();
  }

  /** The client sent EOF: queued input is still processed, then reads resolve as closed. */
  endInput(): void {
    this.inputEnded = true;
    this.notify();
  }

  /** True once the channel is gone. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The channel is gone: pending and future reads resolve as closed, output is dropped. */
  close(): void {
    this.closed = true;
    this.inputEnded = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async nextChar(): Promise<string | null> {
    for (;;) {
      const head = this.inQueue[0];
      if (head !== undefined) {
        const cp = head.codePointAt(this.inPos) ?? 0;
        const ch = String.fromCodePoint(cp);
        this.inPos += ch.length;
        if (this.inPos >= head.length) {
          this.inQueue.shift();
          this.inPos = 0;
        }
        return ch;
      }
      if (this.inputEnded) return null;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Reads the rest of an escape sequence (ESC [ ... final byte, ESC O x) so arrow keys are not typed text. */
  private async readEscape(): Promise<string> {
    let seq = '\x1b';
    const second = await this.nextChar();
    if (second === null) return seq;
    seq += second;
    if (second !== '[' && second !== 'O') return seq;
    for (;;) {
      const ch = await this.nextChar();
      if (ch === null) return seq;
      seq += ch;
      const code = ch.charCodeAt(0);
      if (second === 'O' || (code >= 0x40 && code <= 0x7e)) return seq;
    }
  }

  /** One key press (an escape sequence counts as one key); null when the channel closed. */
  async readKey(): Promise<string | null> {
    const ch = await this.nextChar();
    if (ch === '\x1b') return this.readEscape();
    return ch;
  }

  /**
   * Line editor of a pty-style CLI: echoes printable characters as they arrive, Backspace/DEL erases
   * ("\b \b"), Ctrl+U kills the line, Ctrl+C prints "^C" and abandons the line, Ctrl+Z prints "^Z" (only
   * where allowed), escape sequences and other control characters are swallowed. Enter echoes CR LF even
   * when echo is off (password prompts).
   */
  async readLine(opts: ReadLineOptions = {}): Promise<LineResult> {
    const echo = (opts.echo ?? this.echo) && this.interactive;
    let buf = '';
    for (;;) {
      const ch = await this.nextChar();
      if (ch === null) return { kind: 'closed' };
      switch (ch) {
        case '\r':
        case '\n': {
          if (echo && opts.onEnter) this.writeRaw(opts.onEnter(buf));
          if (this.interactive) this.writeRaw('\r\n');
          return { kind: 'line', text: buf };
        }
        case '\x03':
          if (this.interactive) this.writeRaw('^C\r\n');
          return { kind: 'interrupt', text: buf };
        case '\x1a':
          if (!opts.allowSuspend) break;
          if (this.interactive) this.writeRaw('^Z\r\n');
          return { kind: 'suspend', text: buf };
        case '\x04':
          if (!opts.eofOnCtrlD) break;
          if (echo) this.writeRaw('^D');
          return { kind: 'eof', text: buf };
        case '\x7f':
        case '\b':
          if (buf.length > 0) {
            buf = buf.slice(0, -1);
            if (echo) this.writeRaw('\b \b');
          }
          break;
        case '\x15':
          if (echo && buf.length > 0) this.writeRaw('\b \b'.repeat(buf.length));
          buf = '';
          break;
        case '\x1b':
          await this.readEscape();
          break;
        case ' ': {
          const completion = opts.completeOnSpace?.(buf) ?? null;
          const add = completion ?? ' ';
          buf += add;
          if (echo) this.writeRaw(add);
          break;
        }
        default:
          if (ch.charCodeAt(0) < 0x20) break; // tab, ^D, ... : not modelled
          buf += ch;
          if (echo) this.writeRaw(ch);
      }
    }
  }

  // ---- output ------------------------------------------------------------------------------------------

  /** Writes bytes exactly as given (echo, prompts, escape sequences). Order is always preserved. */
  writeRaw(text: string): void {
    if (!text || this.closed) return;
    const buf = Buffer.from(text, 'utf8');
    this.outTail = this.outTail.then(() => this.deliver(buf)).catch(() => undefined);
  }

  /** Writes text, turning every newline into CR LF. */
  print(text: string): void {
    this.writeRaw(toCrlf(text));
  }

  /** Resolves when everything written so far has been handed to the channel. */
  flush(): Promise<void> {
    return this.outTail;
  }

  /**
   * Chunked delivery splits at arbitrary BYTE offsets (so multi-byte characters and CR LF pairs can be cut
   * in two), which is what a client sees from a real device on a busy link.
   */
  private async deliver(buf: Buffer): Promise<void> {
    const c = this.chunking;
    if (!c) {
      if (!this.closed) await this.sink(buf);
      return;
    }
    let i = 0;
    while (i < buf.length && !this.closed) {
      const n = c.minBytes + Math.floor(this.random() * (c.maxBytes - c.minBytes + 1));
      await this.sink(buf.subarray(i, i + n));
      i += n;
      const gap = Math.floor(this.random() * (c.maxGapMs + 1));
      if (gap > 0) await delay(gap);
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  // ---- pager -------------------------------------------------------------------------------------------

  /**
   * Shows output through the device pager: (screenLength - 1) lines, then the pager prompt; the key decides
   * whether a page, a line or nothing more follows. With paging off (or on exec channels) everything is
   * written at once. Resolves 'quit' if the user stopped the output.
   */
  async page(text: string, style: PagerStyle, opts: { percent?: boolean } = {}): Promise<'done' | 'quit'> {
    const lines = splitLines(text);
    if (!this.interactive || this.screenLength <= 0 || lines.length < this.screenLength) {
      if (lines.length > 0) this.writeRaw(`${lines.join('\r\n')}\r\n`);
      return 'done';
    }
    const pageSize = Math.max(1, this.screenLength - 1);
    let shown = 0;
    const emit = (n: number) => {
      const part = lines.slice(shown, shown + n);
      shown += part.length;
      if (part.length > 0) this.writeRaw(`${part.join('\r\n')}\r\n`);
    };
    emit(pageSize);
    while (shown < lines.length) {
      const prompt = style.prompt(opts.percent ? Math.floor((shown * 100) / lines.length) : null);
      this.writeRaw(prompt);
      let action: PagerAction = 'ignore';
      while (action === 'ignore') {
        const key = await this.readKey();
        if (key === null) return 'quit';
        action = key === '\x03' ? 'quit' : style.keyAction(key);
      }
      this.writeRaw(style.erase(prompt));
      if (action === 'quit') return 'quit';
      emit(action === 'page' ? pageSize : 1);
    }
    return 'done';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Command parser: keyword trees with unique-prefix matching
// ---------------------------------------------------------------------------------------------------------

export interface Token {
  text: string;
  /** Column of the first character within the command line. */
  start: number;
}

/** Splits on blanks; a double-quoted string ("uplink to core") is one token. */
export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  const re = /"[^"]*"?|\S+/g;
  for (let m = re.exec(line); m; m = re.exec(line)) tokens.push({ text: m[0], start: m.index });
  return tokens;
}

export interface CommandMatch {
  /** Argument values by name (`<name>` in the syntax); a `<name...>` argument holds the rest of the line. */
  args: Record<string, string>;
  tokens: Token[];
  /** The command with keywords expanded ("sh run" -> "show running-config"). */
  canonical: string;
  line: string;
}

export type CommandHandler = (m: CommandMatch) => Promise<string | undefined> | string | undefined;

export type ParseResult =
  | { kind: 'ok'; handler: CommandHandler; match: CommandMatch }
  | { kind: 'empty' }
  /** token is null when input ended where something mandatory was expected. */
  | { kind: 'invalid'; index: number; token: Token | null; column: number; tokens: Token[] }
  | { kind: 'ambiguous'; index: number; token: Token; candidates: { keyword: string; help: string }[] }
  /** expectsArgument: what is missing is a value (`<name>`), not a keyword. */
  | { kind: 'incomplete'; tokens: Token[]; column: number; expectsArgument: boolean };

type ArgKind = 'word' | 'number' | 'rest';

interface Node {
  keyword?: string;
  arg?: { name: string; kind: ArgKind; pattern?: RegExp };
  help: string;
  children: Node[];
  handler?: CommandHandler;
}

/**
 * A command tree built from syntax strings such as `show running-config`, `terminal length <len:number>`,
 * `interface <name...>` or `description <text...>`. Keywords match case-insensitively on any unique prefix;
 * an exact keyword wins over longer ones; several prefix matches are ambiguous; a token no keyword accepts
 * may fill an argument slot.
 */
export class CommandTree {
  private readonly root: Node = { help: '', children: [] };

  add(syntax: string, handler: CommandHandler, help = ''): this {
    let node = this.root;
    const parts = syntax.split(/\s+/).filter(Boolean);
    parts.forEach((part, i) => {
      const argMatch = /^<([\w-]+)(?::(number|word))?(\.\.\.)?>$/.exec(part);
      let child: Node | undefined;
      if (argMatch) {
        const name = argMatch[1] ?? 'arg';
        const kind: ArgKind = argMatch[3] ? 'rest' : argMatch[2] === 'number' ? 'number' : 'word';
        child = node.children.find((c) => c.arg?.name === name);
        if (!child) {
          child = { arg: { name, kind }, help: '', children: [] };
          node.children.push(child);
        }
      } else {
        const kw = part.toLowerCase();
        child = node.children.find((c) => c.keyword === kw);
        if (!child) {
          child = { keyword: kw, help: i === 0 ? help : '', children: [] };
          node.children.push(child);
        }
      }
      node = child;
    });
    node.handler = handler;
    return this;
  }

  /** Keywords (with help) available after the given complete tokens: Junos "Possible completions". */
  keywordsAfter(tokens: Token[]): { keyword: string; help: string }[] {
    let node: Node | undefined = this.root;
    for (const t of tokens) {
      node = node ? this.step(node, t.text).next : undefined;
      if (!node) return [];
    }
    return node.children.filter((c) => c.keyword).map((c) => ({ keyword: c.keyword ?? '', help: c.help }));
  }

  private step(node: Node, text: string): { next?: Node; candidates: Node[] } {
    const low = text.toLowerCase();
    const keywords = node.children.filter((c) => c.keyword !== undefined);
    const exact = keywords.find((c) => c.keyword === low);
    if (exact) return { next: exact, candidates: [exact] };
    const candidates = keywords.filter((c) => c.keyword?.startsWith(low));
    if (candidates.length === 1) return { next: candidates[0], candidates };
    if (candidates.length > 1) return { candidates };
    const arg = node.children.find((c) => c.arg && argAccepts(c.arg.kind, text));
    return arg ? { next: arg, candidates: [] } : { candidates: [] };
  }

  parse(line: string): ParseResult {
    const tokens = tokenize(line);
    if (tokens.length === 0) return { kind: 'empty' };
    let node = this.root;
    const args: Record<string, string> = {};
    const words: string[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const tok = tokens[i] as Token;
      const { next, candidates } = this.step(node, tok.text);
      if (!next) {
        if (candidates.length > 1) {
          return {
            kind: 'ambiguous',
            index: i,
            token: tok,
            candidates: candidates.map((c) => ({ keyword: c.keyword ?? '', help: c.help })),
          };
        }
        return { kind: 'invalid', index: i, token: tok, column: tok.start, tokens };
      }
      node = next;
      if (next.arg?.kind === 'rest') {
        const value = line.slice(tok.start).trim();
        args[next.arg.name] = value;
        words.push(value);
        break;
      }
      if (next.arg) args[next.arg.name] = tok.text;
      words.push(next.keyword ?? tok.text);
    }
    const match: CommandMatch = { args, tokens, canonical: words.join(' '), line };
    if (node.handler) return { kind: 'ok', handler: node.handler, match };
    const expectsArgument = node.children.some((c) => c.arg !== undefined);
    return { kind: 'incomplete', tokens, column: line.trimEnd().length + 1, expectsArgument };
  }

  /**
   * Junos complete-on-space: if the word being typed is a unique prefix of a keyword, return the rest of
   * the keyword plus a space; otherwise null (a plain space is inserted).
   */
  completion(buffer: string): string | null {
    if (buffer.endsWith(' ') || buffer.trim() === '') return null;
    const tokens = tokenize(buffer);
    const last = tokens.pop();
    if (!last || last.text.startsWith('"')) return null;
    let node: Node | undefined = this.root;
    for (const t of tokens) {
      node = node ? this.step(node, t.text).next : undefined;
      if (!node || node.arg?.kind === 'rest') return null;
    }
    if (!node) return null;
    const low = last.text.toLowerCase();
    const candidates = node.children.filter((c) => c.keyword?.startsWith(low));
    const only = candidates[0];
    if (candidates.length !== 1 || !only?.keyword || only.keyword === low) return null;
    return `${only.keyword.slice(low.length)} `;
  }
}

function argAccepts(kind: ArgKind, text: string): boolean {
  return kind === 'number' ? /^\d+$/.test(text) : true;
}

// ---------------------------------------------------------------------------------------------------------
// Output pipes ("show running-config | include hostname", "show configuration | no-more")
// ---------------------------------------------------------------------------------------------------------

/** Splits "cmd | filter a | filter b" at pipes outside double quotes. */
export function splitPipes(line: string): { command: string; pipes: { text: string; start: number }[] } {
  const parts: { text: string; start: number }[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i <= line.length; i++) {
    const ch = line[i];
    if (ch === '"') quoted = !quoted;
    if (i === line.length || (ch === '|' && !quoted)) {
      parts.push({ text: line.slice(start, i), start });
      start = i + 1;
    }
  }
  const [first, ...pipes] = parts;
  return { command: first?.text ?? '', pipes };
}

export type FilterKind = 'include' | 'exclude' | 'begin' | 'section' | 'count' | 'last';

/** The text filters IOS (include/exclude/begin/section/count) and Junos (match/except/count/last) offer. */
export function applyFilter(text: string, kind: FilterKind, arg: string): string {
  const lines = splitLines(text);
  const re = (() => {
    try {
      return new RegExp(arg);
    } catch {
      return new RegExp(arg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    }
  })();
  const join = (ls: string[]) => (ls.length ? `${ls.join('\n')}\n` : '');
  switch (kind) {
    case 'include':
      return join(lines.filter((l) => re.test(l)));
    case 'exclude':
      return join(lines.filter((l) => !re.test(l)));
    case 'begin': {
      const i = lines.findIndex((l) => re.test(l));
      return i < 0 ? '' : join(lines.slice(i));
    }
    case 'section': {
      // A matching top-level line plus its indented children.
      const out: string[] = [];
      let inSection = false;
      for (const l of lines) {
        if (!/^\s/.test(l)) inSection = re.test(l);
        else if (re.test(l) && !inSection) out.push(l);
        if (inSection) out.push(l);
      }
      return join(out);
    }
    case 'count':
      return String(lines.filter((l) => re.test(l)).length);
    case 'last':
      return join(lines.slice(-Math.max(0, Number.parseInt(arg, 10) || 0)));
  }
}

// ---------------------------------------------------------------------------------------------------------
// REPL base class
// ---------------------------------------------------------------------------------------------------------

/**
 * The read-eval-print loop shared by all vendors: banner, then prompt / read line / execute until logout.
 * Subclasses provide the prompt, the command dispatcher and what ^C / ^Z do.
 */
export abstract class CliShell implements DeviceShell {
  protected ended = false;
  protected exitStatus = 0;
  /** True while the shell waits for a command at its prompt (asynchronous messages redraw the prompt). */
  private idleAtPrompt = false;

  protected constructor(
    protected readonly term: Terminal,
    protected readonly session: SessionInfo,
  ) {}

  /** Current prompt, including any lines printed above it (Junos `[edit]`, cluster line). */
  protected abstract prompt(): string;
  /** Runs one command line. */
  protected abstract execute(line: string): Promise<void>;
  /** Text shown after login, before the first prompt. */
  protected abstract loginBanner(): string;

  protected lineOptions(): ReadLineOptions {
    return {};
  }
  /** ^C typed at the prompt: the line is abandoned and the prompt shown again. */
  protected onInterrupt(): Promise<void> | void {}
  /** ^Z typed at the prompt (only reported when lineOptions().allowSuspend). */
  protected onSuspend(): Promise<void> | void {}
  /** Hook right after the prompt was written (asynchronous log messages). */
  protected afterPrompt(): void {}

  /** End the session (logout / exit at the top level). */
  protected logout(): void {
    this.ended = true;
  }

  /** True while the channel is open (device-wide broadcasts skip closed sessions). */
  get alive(): boolean {
    return !this.term.isClosed && !this.ended;
  }

  /**
   * A message the device writes on its own (broadcast, log line). Written at once; when the session sits at
   * its prompt the prompt is drawn again below the message, as the CLIs do.
   */
  asyncMessage(text: string): void {
    if (this.term.isClosed || !this.term.interactive) return;
    this.term.writeRaw(`\r\n${toCrlf(text)}`);
    if (this.idleAtPrompt) this.term.writeRaw(this.prompt());
  }

  async run(): Promise<void> {
    const banner = this.loginBanner();
    if (banner) this.term.print(banner);
    // Runs until logout, or until the input is exhausted after EOF / channel close (readLine -> 'closed').
    while (!this.ended) {
      this.term.writeRaw(this.prompt());
      this.afterPrompt();
      this.idleAtPrompt = true;
      const r = await this.term.readLine(this.lineOptions());
      this.idleAtPrompt = false;
      if (r.kind === 'closed') break;
      if (r.kind === 'interrupt') await this.onInterrupt();
      else if (r.kind === 'suspend') await this.onSuspend();
      else await this.execute(r.text);
    }
    await this.term.flush();
  }

  async runCommand(command: string): Promise<number> {
    this.term.interactive = false;
    this.term.echo = false;
    await this.execute(command);
    await this.term.flush();
    return this.exitStatus;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Option resolution and output helpers shared by the vendor files
// ---------------------------------------------------------------------------------------------------------

export interface ResolvedCommon {
  hostname: string;
  username: string;
  password: string;
  authMethods: AuthMethod[];
  banner: string;
  trailingSpace: boolean;
  pagingDefaultOn: boolean;
  terminalLength: number;
  runningConfigLines: number;
  falsePromptPauseMs: number;
  terminal: TerminalOptions;
}

export function resolveCommon(
  o: CommonDeviceOptions,
  defaults: { hostname: string; trailingSpaceInPrompt: boolean; banner?: string },
): ResolvedCommon {
  return {
    hostname: o.hostname ?? defaults.hostname,
    username: o.username ?? 'admin',
    password: o.password ?? 'admin',
    authMethods: o.authMethods ?? ['password', 'keyboard-interactive'],
    banner: o.banner ?? defaults.banner ?? '',
    trailingSpace: o.trailingSpaceInPrompt ?? defaults.trailingSpaceInPrompt,
    pagingDefaultOn: o.pagingDefaultOn ?? true,
    terminalLength: o.terminalLength ?? 24,
    runningConfigLines: o.runningConfigLines ?? 200,
    falsePromptPauseMs: o.falsePromptPauseMs ?? 50,
    terminal: {
      echo: o.echo ?? true,
      chunking: o.chunking ?? false,
      seed: o.seed ?? 1,
      screenLengthFromPty: o.screenLengthFromPty ?? false,
    },
  };
}

/**
 * Prints text, pausing right after any line that ends like a prompt (`...#`, `...>`) BEFORE its line break,
 * so the last bytes a client has seen for a while look exactly like a prompt. Used by the false-prompt
 * commands (`show banner motd`, interface descriptions).
 */
export async function printPausingAtPromptLikeLines(term: Terminal, text: string, pauseMs: number) {
  for (const line of splitLines(text)) {
    term.print(line);
    if (pauseMs > 0 && term.interactive && /[#>]\s?$/.test(line)) {
      await term.flush();
      await delay(pauseMs);
    }
    term.print('\n');
  }
}

/** A realistic, deterministic block of digits/letters (serials, hashes in canned output). */
export function fakeHex(seed: number, length: number): string {
  const r = prng(seed);
  let s = '';
  while (s.length < length) s += Math.floor(r() * 16).toString(16);
  return s;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Calendar parts of a date in UTC (device clocks in the simulators run in UTC). */
export function clockParts(d = new Date()) {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return {
    day: DAYS[d.getUTCDay()] ?? 'Mon',
    month: MONTHS[d.getUTCMonth()] ?? 'Jan',
    date: d.getUTCDate(),
    year: d.getUTCFullYear(),
    time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
    ms: pad(d.getUTCMilliseconds(), 3),
  };
}
