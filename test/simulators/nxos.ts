// Cisco NX-OS (Nexus) CLI simulator (commands, prompts and messages; the line discipline is cli-engine.ts).
//
// Modelled behaviour (Cisco Nexus 9000 NX-OS command references / configuration guides, and what Netmiko's
// cisco_nxos, scrapli's NXOSDriver and gnetcli's nxos device handle):
//   login        the "Cisco Nexus Operating System (NX-OS) Software" copyright block, then straight into
//                EXEC as network-admin: "host# " (no ">" mode; `enable` is not a command).
//   line ends    vsh echoes Enter as CR CR LF and starts every prompt with a CR ("...\r\n\rhost# "), which
//                is why Netmiko's NX-OS driver folds "\r\r\n" and gnetcli expects `cmd\r\r\n` as the echo.
//   prompts      host#  host(config)#  (config-if)#  (config-if-range)#  (config-vlan)#  (config-router)#
//                (config-router-neighbor)#  (config-router-af)#  (config-router-neighbor-af)#  (config-vrf)#
//                (config-line)#  (config-console)#; the host name is never shortened.
//   config       "Enter configuration commands, one per line. End with CNTL/Z." (one space), `exit` up one
//                level, `end` / Ctrl+Z to EXEC, commands of parent modes switch back to them, EXEC commands
//                (show, copy, ...) run from any configuration mode with or without `do`.
//   paging       reverse-video "ESC[7m--More--ESC[m" (Space = page, Enter = line, q = quit, other keys are
//                ignored), erased with CR + ESC[K; `terminal length 0` (0-511), `terminal width` (24-511).
//   errors       caret line under the offending token, then "% Invalid command at '^' marker.",
//                "% Incomplete command at '^' marker.", "% Ambiguous command at '^' marker.",
//                "% Invalid parameter detected at '^' marker.", "Invalid range at '^' marker.",
//                "Invalid interface format at '^' marker.", "Invalid command (incomplete interface) at '^'
//                marker."; role refusals "% Permission denied for the role". On an exec channel a parse
//                error is "Syntax error while parsing '<command>'" (exit 16), a refusal exits 30.
//   features     `router bgp` / `router ospf` / `interface vlan` exist only while their `feature` is on.
import { setTimeout as delay } from 'node:timers/promises';
import {
  applyFilter,
  CliShell,
  type CommandHandler,
  type CommandMatch,
  CommandTree,
  type CommonDeviceOptions,
  caretLine,
  clockParts,
  type DeviceProfile,
  type FilterKind,
  fakeHex,
  lastLineLength,
  type PagerStyle,
  type ParseResult,
  printPausingAtPromptLikeLines,
  type ReadLineOptions,
  type ResolvedCommon,
  resolveCommon,
  type SessionInfo,
  splitLines,
  splitPipes,
  type Terminal,
  tokenize,
} from './cli-engine.js';

export interface NxosOptions extends CommonDeviceOptions {
  /**
   * Role of the login user. 'network-admin' (default) may do everything; 'network-operator' may run show
   * commands and enter configuration mode, but configuration commands, `copy`, `write`, `clear` and
   * `show running-config` / `show startup-config` answer "% Permission denied for the role".
   */
  role?: 'network-admin' | 'network-operator';
  /** Further commands refused with "% Permission denied for the role" (matched on the expanded command). */
  deniedCommands?: RegExp[];
  /** Enter echoed as CR CR LF and a CR before every prompt, as vsh does (default true). */
  extraCarriageReturns?: boolean;
  /** Pager prompt in reverse video, "ESC[7m--More--ESC[m" (default true); false: plain "--More--". */
  ansiPager?: boolean;
  /**
   * `copy running-config startup-config` progress bar: 'redraw' (default) draws it growing with CRs before
   * the final "[####...] 100%" line; 'final' prints only the final line.
   */
  copyProgress?: 'redraw' | 'final';
  /** Features enabled at start (default bgp, interface-vlan, lacp, lldp). */
  features?: string[];
  /** NX-OS release shown by `show version` and the configuration (default '9.3(10)'). */
  version?: string;
}

interface NxosConfig extends ResolvedCommon {
  role: 'network-admin' | 'network-operator';
  deniedCommands: RegExp[];
  extraCarriageReturns: boolean;
  ansiPager: boolean;
  copyProgress: 'redraw' | 'final';
  version: string;
}

/** State shared by all sessions to the same simulated switch. */
interface NxosDevice {
  hostname: string;
  features: Set<string>;
  /** VLAN id -> name. */
  vlans: Map<number, string>;
  /** Interface (canonical name) -> description. */
  descriptions: Map<string, string>;
  /** Interfaces configured `shutdown`. */
  shutdown: Set<string>;
  /** Switchport mode / access VLAN set by configuration (otherwise the built-in port plan applies). */
  modes: Map<string, 'access' | 'trunk'>;
  accessVlans: Map<string, number>;
  /** Logical interfaces that exist (loopback, port-channel, Vlan). */
  logical: Set<string>;
}

export const NXOS_BANNER = `Cisco Nexus Operating System (NX-OS) Software
TAC support: http://www.cisco.com/tac
Copyright (C) 2002-2022, Cisco and/or its affiliates.
All rights reserved.
The copyrights to certain works contained in this software are
owned by other third parties and used and distributed under their own
licenses, such as open source.  This software is provided "as is," and unless
otherwise stated, there is no warranty, express or implied, including but not
limited to warranties of merchantability and fitness for a particular purpose.
Certain components of this software are licensed under
the GNU General Public License (GPL) version 2.0 or
GNU General Public License (GPL) version 3.0  or the GNU
Lesser General Public License (LGPL) Version 2.1 or
Lesser General Public License (LGPL) Version 2.0.
A copy of each such license is available at
http://www.opensource.org/licenses/gpl-2.0.php and
http://opensource.org/licenses/gpl-3.0.html and
http://www.opensource.org/licenses/lgpl-2.1.php and
http://www.gnu.org/licenses/old-licenses/library.txt.
`;

const DEFAULT_FEATURES = ['bgp', 'interface-vlan', 'lacp', 'lldp'];
const KNOWN_FEATURES = [
  'bash-shell',
  'bfd',
  'bgp',
  'dhcp',
  'eigrp',
  'evpn',
  'fabric forwarding',
  'hsrp',
  'interface-vlan',
  'isis',
  'lacp',
  'lldp',
  'netflow',
  'nv overlay',
  'nxapi',
  'ospf',
  'ospfv3',
  'pim',
  'port-security',
  'private-vlan',
  'ptp',
  'scp-server',
  'sftp-server',
  'ssh',
  'tacacs+',
  'telnet',
  'udld',
  'vn-segment-vlan-based',
  'vpc',
  'vrrp',
];

export function nxosProfile(options: NxosOptions = {}): DeviceProfile {
  const cfg: NxosConfig = {
    ...resolveCommon(options, { hostname: 'lab-nx1', trailingSpaceInPrompt: true, banner: NXOS_BANNER }),
    role: options.role ?? 'network-admin',
    deniedCommands: options.deniedCommands ?? [],
    extraCarriageReturns: options.extraCarriageReturns ?? true,
    ansiPager: options.ansiPager ?? true,
    copyProgress: options.copyProgress ?? 'redraw',
    version: options.version ?? '9.3(10)',
  };
  const device: NxosDevice = {
    hostname: cfg.hostname,
    features: new Set(options.features ?? DEFAULT_FEATURES),
    vlans: new Map([
      [1, 'default'],
      [10, 'SERVERS'],
      [20, 'STORAGE'],
    ]),
    descriptions: defaultDescriptions(),
    shutdown: new Set(),
    modes: new Map(),
    accessVlans: new Map(),
    logical: new Set(['loopback0', 'Vlan10']),
  };
  return {
    // cli-engine's DeviceProfile['vendor'] union predates NX-OS; nothing branches on the value.
    vendor: 'cisco-nxos',
    username: cfg.username,
    password: cfg.password,
    authMethods: cfg.authMethods,
    terminal: cfg.terminal,
    createShell: (term, session) => new NxosShell(term, session, cfg, device),
  };
}

/** NX-OS pager: reverse-video --More--, removed with CR + erase-line; q quits, unknown keys are ignored. */
export function nxosPager(ansi: boolean): PagerStyle {
  return {
    prompt: () => (ansi ? '\x1b[7m--More--\x1b[m' : '--More--'),
    erase: (p) => (ansi ? '\r\x1b[K' : `\r${' '.repeat(p.length)}\r`),
    keyAction: (k) =>
      k === ' ' ? 'page' : k === '\r' || k === '\n' ? 'line' : k === 'q' || k === 'Q' ? 'quit' : 'ignore',
  };
}

// ---- errors --------------------------------------------------------------------------------------------

type ErrorKind = 'invalid' | 'incomplete' | 'ambiguous' | 'parameter' | 'range' | 'format' | 'incomplete-if';

const MESSAGES: Record<ErrorKind, string> = {
  invalid: "% Invalid command at '^' marker.",
  incomplete: "% Incomplete command at '^' marker.",
  ambiguous: "% Ambiguous command at '^' marker.",
  parameter: "% Invalid parameter detected at '^' marker.",
  range: "Invalid range at '^' marker.",
  format: "Invalid interface format at '^' marker.",
  'incomplete-if': "Invalid command (incomplete interface) at '^' marker.",
};

const PERMISSION_DENIED = '% Permission denied for the role';

/** Thrown by command handlers; column is relative to the start of the command text. */
class CliError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly column: number,
  ) {
    super(kind);
  }
}

// ---- modes ---------------------------------------------------------------------------------------------

type NxMode =
  | 'config'
  | 'if'
  | 'if-range'
  | 'vlan'
  | 'router'
  | 'router-neighbor'
  | 'router-af'
  | 'router-neighbor-af'
  | 'vrf'
  | 'line'
  | 'console';

const MODE_PROMPT: Record<NxMode, string> = {
  config: 'config',
  if: 'config-if',
  'if-range': 'config-if-range',
  vlan: 'config-vlan',
  router: 'config-router',
  'router-neighbor': 'config-router-neighbor',
  'router-af': 'config-router-af',
  'router-neighbor-af': 'config-router-neighbor-af',
  vrf: 'config-vrf',
  line: 'config-line',
  console: 'config-console',
};

interface Frame {
  mode: NxMode;
  /** Context as `where` shows it ("interface Ethernet1/1"). */
  label: string;
  /** Interfaces (canonical names) or VLAN ids the mode configures. */
  targets: string[];
}

type TreeName =
  | 'exec'
  | 'config'
  | 'if'
  | 'vlan'
  | 'router'
  | 'neighbor'
  | 'af'
  | 'neighbor-af'
  | 'vrf'
  | 'line';

const MODE_TREE: Record<NxMode, TreeName> = {
  config: 'config',
  if: 'if',
  'if-range': 'if',
  vlan: 'vlan',
  router: 'router',
  'router-neighbor': 'neighbor',
  'router-af': 'af',
  'router-neighbor-af': 'neighbor-af',
  vrf: 'vrf',
  line: 'line',
  console: 'line',
};

const PIPE_WORDS = ['begin', 'count', 'egrep', 'exclude', 'grep', 'include', 'last', 'no-more', 'section'];

interface Candidate {
  tree: CommandTree;
  /** Stack depth the command runs at (parent-mode fallback pops to it); null = EXEC command, no change. */
  depth: number | null;
  config: boolean;
}

class NxosShell extends CliShell {
  private stack: Frame[] = [];
  private readonly trees: Record<TreeName, CommandTree>;
  private readonly pager: PagerStyle;
  /** Prompt as displayed when the current line was typed (caret positions are counted from it). */
  private typedPrompt = '';
  private currentLine = '';
  /** Set by handlers whose output carries prompt-like lines (printed with a pause when not paged). */
  private falsePromptOutput = false;

  constructor(
    term: Terminal,
    session: SessionInfo,
    private readonly cfg: NxosConfig,
    private readonly device: NxosDevice,
  ) {
    super(term, session);
    term.initPaging(cfg.pagingDefaultOn, cfg.terminalLength);
    this.pager = nxosPager(cfg.ansiPager);
    this.trees = {
      exec: this.execTree(),
      config: this.globalConfigTree(),
      if: this.interfaceTree(),
      vlan: this.vlanTree(),
      router: this.routerTree(),
      neighbor: this.neighborTree(),
      af: this.addressFamilyTree(false),
      'neighbor-af': this.addressFamilyTree(true),
      vrf: this.vrfTree(),
      line: this.lineTree(),
    };
  }

  protected loginBanner(): string {
    return this.cfg.banner ? `${this.cfg.banner.replace(/\n+$/, '')}\n` : '';
  }

  protected prompt(): string {
    const cr = this.cfg.extraCarriageReturns ? '\r' : '';
    const sp = this.cfg.trailingSpace ? ' ' : '';
    const top = this.stack[this.stack.length - 1];
    return `${cr}${this.device.hostname}${top ? `(${MODE_PROMPT[top.mode]})` : ''}#${sp}`;
  }

  protected override lineOptions(): ReadLineOptions {
    return {
      allowSuspend: this.stack.length > 0,
      onEnter: this.cfg.extraCarriageReturns ? () => '\r' : undefined,
    };
  }

  /** Ctrl+Z in a configuration mode = `end`. */
  protected override onSuspend(): void {
    this.stack = [];
  }

  private get top(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }

  private push(mode: NxMode, label: string, targets: string[] = []): undefined {
    this.stack.push({ mode, label, targets });
    return undefined;
  }

  // ---- dispatch ----------------------------------------------------------------------------------------

  protected async execute(line: string): Promise<void> {
    this.typedPrompt = this.prompt();
    this.currentLine = line;
    this.falsePromptOutput = false;
    const exec: Candidate = { tree: this.trees.exec, depth: null, config: false };
    if (this.stack.length > 0) {
      // `do <command>` runs an EXEC command from any configuration mode.
      const doMatch = /^(\s*do)(\s+|$)/i.exec(line);
      if (doMatch) {
        const offset = doMatch[0].length;
        const rest = line.slice(offset);
        if (rest.trim() === '') return this.fail('incomplete', line.trimEnd().length);
        return this.dispatch([exec], rest, offset);
      }
    }
    // The current mode first, then each parent mode (NX-OS switches back to the mode a command belongs
    // to), then the EXEC commands, which NX-OS accepts in configuration modes without `do`.
    const candidates: Candidate[] = [];
    for (let d = this.stack.length; d >= 1; d--) {
      const frame = this.stack[d - 1] as Frame;
      candidates.push({ tree: this.trees[MODE_TREE[frame.mode]], depth: d, config: true });
    }
    candidates.push(exec);
    return this.dispatch(candidates, line, 0);
  }

  private async dispatch(candidates: Candidate[], text: string, offset: number): Promise<void> {
    const { command } = splitPipes(text);
    let best: ParseResult | null = null;
    for (const c of candidates) {
      const r = c.tree.parse(command);
      if (r.kind === 'empty') return;
      if (r.kind === 'ok') {
        if (c.depth !== null) this.stack.length = c.depth;
        return this.runMatched(c, r.handler, r.match, text, offset);
      }
      // Report the error of the reading that got furthest into the line.
      if (!best || progress(r) > progress(best)) best = r;
    }
    if (best) this.reportParseError(best, offset);
  }

  private reportParseError(r: ParseResult, offset: number): void {
    if (r.kind === 'invalid') this.fail('invalid', offset + r.column);
    else if (r.kind === 'ambiguous') this.fail('ambiguous', offset + r.token.start);
    else if (r.kind === 'incomplete') this.fail('incomplete', offset + r.column - 1);
  }

  /** Prints an error: caret line + message (interactive) or the exec-channel "Syntax error" (exit 16). */
  private fail(kind: ErrorKind, column: number): void {
    if (!this.term.interactive) {
      this.term.print(`Syntax error while parsing '${this.currentLine.trim()}'\n`);
      this.exitStatus = 16;
      return;
    }
    const col = lastLineLength(this.typedPrompt) + column;
    this.term.print(`${caretLine(col)}\n${MESSAGES[kind]}\n`);
  }

  private deny(): void {
    this.term.print(`${PERMISSION_DENIED}\n`);
    if (!this.term.interactive) this.exitStatus = 30;
  }

  private isDenied(canonical: string, config: boolean): boolean {
    if (this.cfg.deniedCommands.some((re) => re.test(canonical))) return true;
    if (this.cfg.role === 'network-admin') return false;
    if (config) return !/^(end|exit|where)$/.test(canonical);
    return /^(copy|write|clear|show (running|startup)-config)\b/.test(canonical);
  }

  private async runMatched(
    c: Candidate,
    handler: CommandHandler,
    match: CommandMatch,
    text: string,
    offset: number,
  ): Promise<void> {
    const { pipes } = splitPipes(text);
    if (this.isDenied(match.canonical, c.config)) return this.deny();

    // Output modifiers after show commands: | include|exclude|begin|section|grep|egrep <regex>,
    // | count, | last [n], | no-more.
    let noMore = false;
    const filters: ((out: string) => string)[] = [];
    for (const p of pipes) {
      const base = offset + p.start;
      if (c.config || !/^show\b/.test(match.canonical)) return this.fail('invalid', base - 1);
      const toks = tokenize(p.text);
      const kw = toks[0];
      if (!kw) return this.fail('incomplete', base + p.text.length);
      const low = kw.text.toLowerCase();
      const exact = PIPE_WORDS.find((w) => w === low);
      const words = exact ? [exact] : PIPE_WORDS.filter((w) => w.startsWith(low));
      if (words.length > 1) return this.fail('ambiguous', base + kw.start);
      const word = words[0];
      if (!word) return this.fail('invalid', base + kw.start);
      const rest = toks.slice(1);
      if (word === 'no-more' || word === 'count') {
        if (rest[0]) return this.fail('invalid', base + rest[0].start);
        if (word === 'no-more') noMore = true;
        else filters.push((out) => `${splitLines(out).length}\n`);
        continue;
      }
      if (word === 'last') {
        const n = rest[0];
        if (rest[1]) return this.fail('invalid', base + rest[1].start);
        if (n && !/^\d+$/.test(n.text)) return this.fail('parameter', base + n.start);
        const count = n ? n.text : '10';
        filters.push((out) => applyFilter(out, 'last', count));
        continue;
      }
      // grep / egrep options (-i, -v, ...) are skipped; the pattern is the rest of the segment.
      const patternTokens = word.endsWith('grep') ? rest.filter((t) => !t.text.startsWith('-')) : rest;
      const first = patternTokens[0];
      if (!first) return this.fail('incomplete', base + p.text.trimEnd().length);
      const pattern = p.text
        .slice(first.start)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      const kind: FilterKind = word === 'grep' || word === 'egrep' ? 'include' : (word as FilterKind);
      filters.push((out) => applyFilter(out, kind, pattern));
    }

    let out: string | undefined;
    try {
      out = await handler(match);
    } catch (e) {
      if (e instanceof CliError) return this.fail(e.kind, offset + e.column);
      throw e;
    }
    if (out === undefined) return;
    for (const f of filters) out = f(out);
    if (noMore || !this.term.interactive) {
      this.term.print(out);
      return;
    }
    const lines = splitLines(out).length;
    const paged = this.term.screenLength > 0 && lines >= this.term.screenLength;
    if (this.falsePromptOutput && filters.length === 0 && !paged) {
      await printPausingAtPromptLikeLines(this.term, out, this.cfg.falsePromptPauseMs);
      return;
    }
    await this.term.page(out, this.pager);
  }

  // ---- EXEC commands -----------------------------------------------------------------------------------

  private execTree(): CommandTree {
    const t = new CommandTree();
    const noop = () => undefined;
    t.add('configure', () => this.enterConfig());
    t.add('configure terminal', () => this.enterConfig());
    t.add('end', () => {
      this.stack = [];
      return undefined;
    });
    t.add('exit', () => {
      if (this.stack.length > 0) this.stack.pop();
      else this.logout();
      return undefined;
    });
    t.add('where', () => this.where());
    t.add('terminal length <lines>', (m) => {
      this.term.screenLength = numberArg(m, 2, 0, 511);
      return undefined;
    });
    t.add('terminal width <columns>', (m) => {
      this.term.screenWidth = numberArg(m, 2, 24, 511);
      return undefined;
    });
    t.add('terminal session-timeout <minutes>', (m) => {
      numberArg(m, 2, 0, 525600);
      return undefined;
    });
    t.add('terminal monitor', noop);
    t.add('terminal dont-ask', noop);
    t.add('show version', () => nxosVersion(this.device.hostname, this.cfg.version));
    t.add('show hostname', () => `${this.device.hostname}\n`);
    t.add('show clock', () => {
      const c = clockParts();
      const date = String(c.date).padStart(2, '0');
      return `Time source is NTP\n${c.time}.${c.ms} UTC ${c.day} ${c.month} ${date} ${c.year}\n`;
    });
    t.add(
      'show terminal',
      () =>
        `TTY: /dev/pts/0 Type: "${this.term.termType}"\n` +
        `Length: ${this.term.screenLength} lines, Width: ${this.term.screenWidth} columns\n` +
        'Session Timeout: 30 minutes\nEvent Manager CLI event bypass: no\nRedirection mode: ascii\n',
    );
    t.add('show users', () => nxosUsers(this.session));
    t.add('show inventory', () => NXOS_INVENTORY);
    t.add('show running-config', () => this.runningConfig('running'));
    t.add('show running-config interface <name...>', (m) => this.runningConfigInterface(m));
    t.add('show startup-config', () => this.runningConfig('startup'));
    t.add('show interface', () => this.showInterfaces(this.allInterfaces()));
    t.add('show interface brief', () => this.interfaceBrief());
    t.add('show interface description', () => {
      this.falsePromptOutput = true;
      return this.interfaceDescription();
    });
    t.add('show interface <name...>', (m) => {
      const names = this.parseInterface(m.args.name ?? '', (m.tokens[2] as { start: number }).start, false);
      return this.showInterfaces(names);
    });
    t.add('show ip interface brief', () => this.ipInterfaceBrief());
    t.add('show vlan', () => `${this.vlanBrief()}${this.vlanTypes()}`);
    t.add('show vlan brief', () => this.vlanBrief());
    t.add('copy running-config startup-config', () => this.copyRunStart());
    t.add('write erase', () => this.writeErase());
    t.add('clear counters', noop);
    t.add('ping <target...>', (m) => nxosPing((m.args.target ?? '').split(/\s+/)[0] ?? ''));
    return t;
  }

  private enterConfig(): string | undefined {
    if (this.stack.length > 0) return undefined;
    this.push('config', 'conf');
    return 'Enter configuration commands, one per line. End with CNTL/Z.\n';
  }

  private where(): string {
    const context = this.stack.map((f) => f.label).join('; ');
    return `  ${context ? `${context}      ` : ''}${this.session.username}@${this.device.hostname}%default\n`;
  }

  /** Progress bar (drawn growing with CRs on a terminal), then NX-OS's two completion lines. */
  private async copyRunStart(): Promise<string> {
    const bar = (pct: number) => {
      const n = Math.round((pct * 40) / 100);
      return `[${'#'.repeat(n)}${' '.repeat(40 - n)}] ${String(pct).padStart(3)}%`;
    };
    if (this.term.interactive && this.cfg.copyProgress === 'redraw') {
      for (const [i, pct] of [4, 27, 61, 88].entries()) {
        this.term.writeRaw(`${i === 0 ? '' : '\r'}${bar(pct)}`);
        await this.term.flush();
        await delay(10);
      }
      this.term.writeRaw(`\r${bar(100)}\r\n`);
    } else {
      this.term.print(`${bar(100)}\n`);
    }
    return 'Copy complete, now saving to disk (please wait)...\nCopy complete.\n';
  }

  private async writeErase(): Promise<undefined> {
    this.term.print('Warning: This command will erase the startup-configuration.\n');
    this.term.writeRaw('Do you wish to proceed anyway? (y/n)  [n] ');
    await this.term.readLine();
    return undefined;
  }

  // ---- configuration commands --------------------------------------------------------------------------

  /** Commands every configuration mode has. */
  private addConfigCommon(t: CommandTree): CommandTree {
    t.add('end', () => {
      this.stack = [];
      return undefined;
    });
    t.add('exit', () => {
      this.stack.pop();
      return undefined;
    });
    t.add('where', () => this.where());
    return t;
  }

  private globalConfigTree(): CommandTree {
    const t = this.addConfigCommon(new CommandTree());
    const accept = () => undefined;
    for (const kw of ['hostname', 'switchname']) {
      t.add(`${kw} <name>`, (m) => {
        this.device.hostname = m.args.name ?? this.device.hostname;
        return undefined;
      });
    }
    t.add('interface <name...>', (m) => {
      const col = (m.tokens[1] as { start: number }).start;
      const names = this.parseInterface(m.args.name ?? '', col, true);
      for (const n of names) if (!n.startsWith('Ethernet') && n !== 'mgmt0') this.device.logical.add(n);
      const label = `interface ${names.length > 1 ? rangeLabel(names) : names[0]}`;
      return this.push(names.length > 1 ? 'if-range' : 'if', label, names);
    });
    t.add('vlan <ids...>', (m) => {
      const ids = parseVlanList(m.args.ids ?? '', (m.tokens[1] as { start: number }).start);
      for (const id of ids) {
        if (!this.device.vlans.has(id)) this.device.vlans.set(id, `VLAN${String(id).padStart(4, '0')}`);
      }
      return this.push('vlan', `vlan ${m.args.ids}`, ids.map(String));
    });
    t.add('router <protocol> <tag>', (m) => {
      const proto = (m.args.protocol ?? '').toLowerCase();
      const protoCol = (m.tokens[1] as { start: number }).start;
      const enabled = ['bgp', 'ospf'].filter((p) => this.device.features.has(p));
      // Without any routing feature the `router` keyword itself does not exist.
      if (enabled.length === 0) throw new CliError('invalid', 0);
      const hits = enabled.filter((p) => p.startsWith(proto));
      if (hits.length > 1) throw new CliError('ambiguous', protoCol);
      const hit = hits[0];
      if (!hit) throw new CliError('invalid', protoCol);
      return this.push('router', `router ${hit} ${m.args.tag}`);
    });
    t.add('vrf context <name>', (m) => this.push('vrf', `vrf context ${m.args.name}`));
    t.add('line vty', () => this.push('line', 'line vty'));
    t.add('line console', () => this.push('console', 'line console'));
    t.add('feature <name...>', (m) => {
      this.device.features.add(featureArg(m));
      return undefined;
    });
    t.add('no feature <name...>', (m) => {
      this.device.features.delete(featureArg(m));
      return undefined;
    });
    t.add('no vlan <ids...>', (m) => {
      for (const id of parseVlanList(m.args.ids ?? '', (m.tokens[2] as { start: number }).start)) {
        if (id !== 1) this.device.vlans.delete(id);
      }
      return undefined;
    });
    t.add('no interface <name...>', (m) => {
      const col = (m.tokens[2] as { start: number }).start;
      for (const n of this.parseInterface(m.args.name ?? '', col, true)) this.device.logical.delete(n);
      return undefined;
    });
    t.add('no <rest...>', accept);
    for (const kw of [
      'aaa',
      'banner',
      'boot',
      'callhome',
      'cdp',
      'class-map',
      'cli',
      'clock',
      'copp',
      'errdisable',
      'hardware',
      'ip',
      'ipv6',
      'key',
      'lldp',
      'logging',
      'mac',
      'ntp',
      'nxapi',
      'policy-map',
      'port-channel',
      'radius-server',
      'role',
      'route-map',
      'snmp-server',
      'spanning-tree',
      'ssh',
      'system',
      'tacacs-server',
      'track',
      'username',
      'vpc',
    ]) {
      t.add(`${kw} <rest...>`, accept);
    }
    return t;
  }

  private interfaceTree(): CommandTree {
    const t = this.addConfigCommon(new CommandTree());
    const accept = () => undefined;
    const each = (fn: (name: string) => void) => () => {
      for (const n of this.top?.targets ?? []) fn(n);
      return undefined;
    };
    t.add('description <text...>', (m) => {
      for (const n of this.top?.targets ?? []) this.device.descriptions.set(n, m.args.text ?? '');
      return undefined;
    });
    t.add(
      'no description',
      each((n) => this.device.descriptions.delete(n)),
    );
    t.add(
      'shutdown',
      each((n) => this.device.shutdown.add(n)),
    );
    t.add(
      'no shutdown',
      each((n) => this.device.shutdown.delete(n)),
    );
    t.add(
      'switchport mode access',
      each((n) => this.device.modes.set(n, 'access')),
    );
    t.add(
      'switchport mode trunk',
      each((n) => this.device.modes.set(n, 'trunk')),
    );
    t.add('switchport access vlan <id>', (m) => {
      const [id] = parseVlanList(m.args.id ?? '', (m.tokens[3] as { start: number }).start);
      for (const n of this.top?.targets ?? []) this.device.accessVlans.set(n, id ?? 1);
      return undefined;
    });
    t.add('switchport', accept);
    t.add('switchport trunk <rest...>', accept);
    t.add('mtu <bytes>', (m) => {
      numberArg(m, 1, 576, 9216);
      return undefined;
    });
    t.add('no <rest...>', accept);
    for (const kw of [
      'bfd',
      'cdp',
      'channel-group',
      'duplex',
      'ip',
      'ipv6',
      'lacp',
      'link',
      'lldp',
      'load-interval',
      'negotiation',
      'service-policy',
      'spanning-tree',
      'speed',
      'storm-control',
      'udld',
      'vpc',
      'vrf',
    ]) {
      t.add(`${kw} <rest...>`, accept);
    }
    return t;
  }

  private vlanTree(): CommandTree {
    const t = this.addConfigCommon(new CommandTree());
    const accept = () => undefined;
    t.add('name <name>', (m) => {
      for (const id of this.top?.targets ?? []) this.device.vlans.set(Number(id), m.args.name ?? '');
      return undefined;
    });
    t.add('no name', () => {
      for (const id of this.top?.targets ?? []) {
        this.device.vlans.set(Number(id), `VLAN${id.padStart(4, '0')}`);
      }
      return undefined;
    });
    t.add('shutdown', accept);
    t.add('state <rest...>', accept);
    t.add('vn-segment <id>', accept);
    t.add('mode <rest...>', accept);
    t.add('no <rest...>', accept);
    return t;
  }

  private routerTree(): CommandTree {
    const t = this.addConfigCommon(new CommandTree());
    const accept = () => undefined;
    t.add('neighbor <address>', (m) => this.push('router-neighbor', `neighbor ${m.args.address}`));
    t.add('neighbor <address> remote-as <asn>', (m) =>
      this.push('router-neighbor', `neighbor ${m.args.address}`),
    );
    this.addAddressFamilies(t, 'router-af');
    t.add('log-neighbor-changes', accept);
    t.add('log-adjacency-changes', accept);
    t.add('log-adjacency-changes detail', accept);
    for (const kw of [
      'area',
      'bestpath',
      'graceful-restart',
      'passive-interface',
      'redistribute',
      'router-id',
      'timers',
    ]) {
      t.add(`${kw} <rest...>`, accept);
    }
    t.add('no <rest...>', accept);
    return t;
  }

  private neighborTree(): CommandTree {
    const t = this.addConfigCommon(new CommandTree());
    const accept = () => undefined;
    this.addAddressFamilies(t, 'router-neighbor-af');
    t.add('shutdown', accept);
    t.add('bfd', accept);
    for (const kw of [
      'description',
      'ebgp-multihop',
      'password',
      'remote-as',
      'timers',
      'update-source',
      'local-as',
    ]) {
      t.add(`${kw} <rest...>`, accept);
    }
    t.add('no <rest...>', accept);
    return t;
  }

  private addAddressFamilies(t: CommandTree, mode: 'router-af' | 'router-neighbor-af'): void {
    for (const af of ['ipv4 unicast', 'ipv4 multicast', 'ipv6 unicast', 'ipv6 multicast', 'l2vpn evpn']) {
      t.add(`address-family ${af}`, () => this.push(mode, `address-family ${af}`));
    }
  }

  private addressFamilyTree(neighbor: boolean): CommandTree {
    const t = this.addConfigCommon(new CommandTree());
    const accept = () => undefined;
    const words = neighbor
      ? [
          'allowas-in',
          'default-originate',
          'maximum-prefix',
          'route-map',
          'send-community',
          'soft-reconfiguration',
        ]
      : ['advertise', 'aggregate-address', 'maximum-paths', 'network', 'redistribute'];
    for (const kw of words) t.add(`${kw} <rest...>`, accept);
    if (neighbor) {
      for (const kw of ['next-hop-self', 'route-reflector-client', 'send-community']) t.add(kw, accept);
    }
    t.add('no <rest...>', accept);
    return t;
  }

  private vrfTree(): CommandTree {
    const t = this.addConfigCommon(new CommandTree());
    const accept = () => undefined;
    for (const kw of ['address-family', 'description', 'ip', 'ipv6', 'rd', 'vni'])
      t.add(`${kw} <rest...>`, accept);
    t.add('shutdown', accept);
    t.add('no <rest...>', accept);
    return t;
  }

  private lineTree(): CommandTree {
    const t = this.addConfigCommon(new CommandTree());
    const accept = () => undefined;
    t.add('exec-timeout <minutes>', (m) => {
      numberArg(m, 1, 0, 525600);
      return undefined;
    });
    for (const kw of ['access-class', 'ipv6', 'session-limit', 'speed', 'stopbits', 'databits', 'parity']) {
      t.add(`${kw} <rest...>`, accept);
    }
    t.add('no <rest...>', accept);
    return t;
  }

  // ---- interfaces --------------------------------------------------------------------------------------

  /**
   * Resolves an interface argument ("Ethernet1/1", "ethernet 1/1", "e1/1-4", "lo0", "port-channel10",
   * "Vlan10", "mgmt0") to canonical names. `column` is where the argument starts in the command text.
   */
  private parseInterface(text: string, column: number, create: boolean): string[] {
    const m = /^([A-Za-z][A-Za-z-]*)\s*(.*?)\s*$/.exec(text);
    if (!m) throw new CliError('format', column);
    const word = (m[1] ?? '').toLowerCase();
    const num = m[2] ?? '';
    const types = IF_TYPES.filter((t) => t.key.startsWith(word));
    const type = types.length === 1 ? types[0] : IF_TYPES.find((t) => t.key === word);
    if (!type) throw new CliError('format', column);
    if (type.feature && !this.device.features.has(type.feature)) throw new CliError('invalid', column);
    if (num === '') throw new CliError('incomplete-if', column + text.trimEnd().length);
    const numCol = column + text.indexOf(num, (m[1] ?? '').length);
    const numbers = type.parse(num);
    if (numbers === null) throw new CliError('format', numCol);
    if (numbers.length === 0) throw new CliError('range', numCol);
    const names = numbers.map((n) => `${type.canonical}${n}`);
    if (!create && type.logical && names.some((n) => !this.device.logical.has(n))) {
      throw new CliError('range', numCol);
    }
    return names;
  }

  private allInterfaces(): string[] {
    const eth = Array.from({ length: ETH_PORTS }, (_, i) => `Ethernet1/${i + 1}`);
    const logical = [...this.device.logical].sort(compareInterfaces);
    return [...eth, 'mgmt0', ...logical];
  }

  private ports(): Port[] {
    return Array.from({ length: ETH_PORTS }, (_, i) => {
      const n = i + 1;
      const name = `Ethernet1/${n}`;
      const plan = portPlan(n);
      const mode = this.device.modes.get(name) ?? plan.mode;
      const adminDown = this.device.shutdown.has(name);
      const up = plan.cabled && !adminDown;
      const reason = adminDown
        ? 'Administratively down'
        : up
          ? 'none'
          : n > 48
            ? 'SFP not inserted'
            : 'Link not connected';
      return {
        name,
        short: `Eth1/${n}`,
        mode,
        vlan: mode === 'trunk' ? 1 : (this.device.accessVlans.get(name) ?? plan.vlan),
        speed: plan.speed,
        up,
        adminDown,
        reason,
        description: this.device.descriptions.get(name),
      };
    });
  }

  private interfaceBrief(): string {
    const rule = '-'.repeat(80);
    const out = [
      '',
      rule,
      'Ethernet      VLAN    Type Mode   Status  Reason                   Speed     Port',
      'Interface                                                                    Ch #',
      rule,
    ];
    for (const p of this.ports()) {
      const speed = p.up ? `${p.speed}(D)` : 'auto(D)';
      out.push(
        `${p.short.padEnd(14)}${String(p.vlan).padEnd(8)}eth  ${p.mode.padEnd(7)}${(p.up ? 'up' : 'down').padEnd(8)}` +
          `${p.reason.padEnd(27)}${speed.padStart(7)} --`,
      );
    }
    out.push(
      '',
      rule,
      'Port   VRF          Status IP Address                              Speed    MTU',
      rule,
      `mgmt0  --           up     ${'10.0.0.11'.padEnd(40)}1000     1500`,
    );
    const logical = [...this.device.logical].sort(compareInterfaces);
    const state = (n: string) => (this.device.shutdown.has(n) ? 'down' : 'up');
    const channels = logical.filter((n) => n.startsWith('port-channel'));
    if (channels.length > 0) {
      out.push(
        '',
        rule,
        'Port-channel VLAN    Type Mode   Status  Reason                    Speed   Protocol',
        'Interface',
        rule,
      );
      for (const n of channels) {
        out.push(
          `${shortName(n).padEnd(13)}1       eth  trunk  down    No operational members      auto(I)  none`,
        );
      }
    }
    const svis = logical.filter((n) => n.startsWith('Vlan'));
    if (svis.length > 0) {
      out.push(
        '',
        '-'.repeat(79),
        'Interface Secondary VLAN(Type)                    Status Reason',
        '-'.repeat(79),
      );
      for (const n of svis) {
        out.push(
          `${n.padEnd(10)}${'--'.padEnd(40)}${state(n).padEnd(7)}${state(n) === 'up' ? '--' : 'Admin'}`,
        );
      }
    }
    const loopbacks = logical.filter((n) => n.startsWith('loopback'));
    if (loopbacks.length > 0) {
      out.push('', '-'.repeat(79), 'Interface     Status     Description', '-'.repeat(79));
      for (const n of loopbacks) {
        out.push(
          `${shortName(n).padEnd(14)}${state(n).padEnd(11)}${this.device.descriptions.get(n) ?? '--'}`,
        );
      }
    }
    return `${out.join('\n')}\n`;
  }

  private interfaceDescription(): string {
    const rule = '-'.repeat(79);
    const out = ['', rule, 'Port          Type   Speed   Description', rule];
    for (const p of this.ports()) {
      out.push(`${p.short.padEnd(14)}eth    ${p.speed.padEnd(8)}${p.description ?? '--'}`);
    }
    out.push('', rule, `${'Interface'.padEnd(25)}${'Description'.padEnd(55)}`, rule);
    for (const n of ['mgmt0', ...[...this.device.logical].sort(compareInterfaces)]) {
      out.push(`${shortName(n).padEnd(25)}${this.device.descriptions.get(n) ?? '--'}`);
    }
    return `${out.join('\n')}\n`;
  }

  private ipInterfaceBrief(): string {
    const out = [
      'IP Interface Status for VRF "default"(1)',
      'Interface            IP Address      Interface Status',
    ];
    for (const n of [...this.device.logical].sort(compareInterfaces)) {
      const address = logicalAddress(n);
      if (!address || n.startsWith('port-channel')) continue;
      const state = this.device.shutdown.has(n)
        ? 'protocol-down/link-down/admin-down'
        : 'protocol-up/link-up/admin-up';
      out.push(`${shortName(n).padEnd(21)}${address.split('/')[0]?.padEnd(16)}${state}       `);
    }
    return `${out.join('\n')}\n`;
  }

  private showInterfaces(names: string[]): string {
    const ports = new Map(this.ports().map((p) => [p.name, p]));
    const blocks = names.map((n) => {
      const desc = this.device.descriptions.get(n);
      const descLine = desc ? [`  Description: ${desc}`] : [];
      const port = ports.get(n);
      if (port) {
        const mac = `00a7.42c1.d1${String(Number(n.split('/')[1] ?? 0)).padStart(2, '0')}`;
        const gbps = port.speed.replace('G', '');
        return [
          port.up ? `${n} is up` : `${n} is down (${port.reason})`,
          `admin state is ${port.adminDown ? 'down' : 'up'}, Dedicated Interface`,
          `  Hardware: 1000/10000/25000/40000/50000/100000 Ethernet, address: ${mac} (bia ${mac})`,
          ...descLine,
          `  MTU 1500 bytes, BW ${Number(gbps) * 1000000} Kbit , DLY 10 usec`,
          '  reliability 255/255, txload 1/255, rxload 1/255',
          '  Encapsulation ARPA, medium is broadcast',
          `  Port mode is ${port.mode}`,
          port.up ? `  full-duplex, ${gbps} Gb/s, media type is ${port.speed}` : '  auto-duplex, auto-speed',
          '  30 seconds input rate 2648 bits/sec, 3 packets/sec',
          '  30 seconds output rate 1920 bits/sec, 2 packets/sec',
        ];
      }
      const down = this.device.shutdown.has(n);
      const address = n === 'mgmt0' ? '10.0.0.11/24' : logicalAddress(n);
      const hardware = n === 'mgmt0' ? 'GigabitEthernet, address: 00a7.42c1.d100 (bia 00a7.42c1.d100)' : null;
      return [
        down ? `${n} is down (Administratively down)` : `${n} is up`,
        'admin state is up,',
        `  Hardware: ${hardware ?? (n.startsWith('loopback') ? 'Loopback' : 'EtherSVI, address: 00a7.42c1.d1ff')}`,
        ...descLine,
        ...(address ? [`  Internet Address is ${address}`] : []),
        `  MTU 1500 bytes, BW ${n === 'mgmt0' ? '1000000 Kbit , DLY 10' : '8000000 Kbit , DLY 5000'} usec`,
      ];
    });
    return `${blocks.map((b) => b.join('\n')).join('\n\n')}\n\n`;
  }

  // ---- VLANs -------------------------------------------------------------------------------------------

  private vlanBrief(): string {
    const ports = this.ports();
    const out = [
      '',
      'VLAN Name                             Status    Ports',
      '---- -------------------------------- --------- -------------------------------',
    ];
    for (const [id, name] of [...this.device.vlans].sort((a, b) => a[0] - b[0])) {
      // Access ports of the VLAN, and trunks (all VLANs allowed) that are up and forwarding.
      const members = ports.filter((p) => (p.mode === 'trunk' ? p.up : p.vlan === id)).map((p) => p.short);
      const wrapped = wrapPorts(members, 31);
      const head = `${String(id).padEnd(5)}${name.padEnd(33)}${'active'.padEnd(10)}`;
      out.push(`${head}${wrapped[0] ?? ''}`.trimEnd());
      for (const more of wrapped.slice(1)) out.push(`${' '.repeat(48)}${more}`);
    }
    return `${out.join('\n')}\n`;
  }

  private vlanTypes(): string {
    const out = ['', 'VLAN Type         Vlan-mode', '---- -----        ----------'];
    for (const id of [...this.device.vlans.keys()].sort((a, b) => a - b)) {
      out.push(`${String(id).padEnd(5)}enet         CE`);
    }
    out.push('', 'Remote SPAN VLANs', '-'.repeat(79), '');
    return `${out.join('\n')}\n`;
  }

  // ---- configuration output ----------------------------------------------------------------------------

  private runningConfig(kind: 'running' | 'startup'): string {
    return nxosRunningConfig({
      hostname: this.device.hostname,
      lines: this.cfg.runningConfigLines,
      version: this.cfg.version,
      kind,
      features: [...this.device.features].sort(),
      vlans: this.device.vlans,
      interfaceBlocks: this.ports().map((p) => this.interfaceBlock(p)),
    });
  }

  private interfaceBlock(p: Port): string[] {
    return [
      `interface ${p.name}`,
      ...(p.description ? [`  description ${p.description}`] : []),
      p.mode === 'trunk' ? '  switchport mode trunk' : `  switchport access vlan ${p.vlan}`,
      ...(p.adminDown ? ['  shutdown'] : []),
      '',
    ];
  }

  private runningConfigInterface(m: CommandMatch): string {
    const names = this.parseInterface(m.args.name ?? '', (m.tokens[3] as { start: number }).start, false);
    const ports = new Map(this.ports().map((p) => [p.name, p]));
    const body = names.flatMap((n) => {
      const port = ports.get(n);
      if (port) return this.interfaceBlock(port);
      const desc = this.device.descriptions.get(n);
      const address = n === 'mgmt0' ? '10.0.0.11/24' : logicalAddress(n);
      return [
        `interface ${n}`,
        ...(desc ? [`  description ${desc}`] : []),
        ...(n === 'mgmt0' ? ['  vrf member management'] : []),
        ...(address ? [`  ip address ${address}`] : []),
        '',
      ];
    });
    return [...configHeader(`running-config interface ${names.join(', ')}`, this.cfg.version), '', ...body]
      .join('\n')
      .concat('\n');
  }
}

// ---- helpers -------------------------------------------------------------------------------------------

function progress(r: ParseResult): number {
  switch (r.kind) {
    case 'invalid':
    case 'incomplete':
      return r.column;
    case 'ambiguous':
      return r.token.start;
    default:
      return -1;
  }
}

/** The numeric argument at token `index`, checked against NX-OS's range for it. */
function numberArg(m: CommandMatch, index: number, min: number, max: number): number {
  const tok = m.tokens[index];
  const n = tok && /^\d+$/.test(tok.text) ? Number(tok.text) : Number.NaN;
  if (!tok || !(n >= min && n <= max)) throw new CliError('parameter', tok?.start ?? 0);
  return n;
}

function featureArg(m: CommandMatch): string {
  const name = (m.args.name ?? '').toLowerCase().replace(/\s+/g, ' ');
  const nameTok = m.tokens.find((t) => t.text.toLowerCase() === name.split(' ')[0]);
  if (!KNOWN_FEATURES.includes(name)) throw new CliError('invalid', nameTok?.start ?? 0);
  return name;
}

/** "10", "10,20", "30-32" -> ids; "% Invalid command" for junk, "Invalid range" outside 1-4094. */
function parseVlanList(text: string, column: number): number[] {
  const ids: number[] = [];
  for (const part of text.replace(/\s+/g, '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new CliError('invalid', column);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < 1 || to > 4094 || to < from) throw new CliError('range', column);
    for (let id = from; id <= to; id++) ids.push(id);
  }
  return ids;
}

const ETH_PORTS = 54; // C93180YC-FX: 48 x 25G + 6 x 100G

interface IfType {
  key: string;
  canonical: string;
  logical: boolean;
  feature?: string;
  /** Numbers the argument names; null = malformed, [] = out of range. */
  parse(num: string): string[] | null;
}

function simpleNumber(min: number, max: number) {
  return (num: string): string[] | null => {
    if (!/^\d+$/.test(num)) return null;
    const n = Number(num);
    return n >= min && n <= max ? [String(n)] : [];
  };
}

const IF_TYPES: IfType[] = [
  {
    key: 'ethernet',
    canonical: 'Ethernet',
    logical: false,
    parse: (num) => {
      const m = /^(\d+)\/(\d+)(?:-(\d+))?$/.exec(num.replace(/\s+/g, ''));
      if (!m) return null;
      const slot = Number(m[1]);
      const from = Number(m[2]);
      const to = m[3] === undefined ? from : Number(m[3]);
      if (slot !== 1 || from < 1 || to > ETH_PORTS || to < from) return [];
      return Array.from({ length: to - from + 1 }, (_, i) => `1/${from + i}`);
    },
  },
  { key: 'loopback', canonical: 'loopback', logical: true, parse: simpleNumber(0, 1023) },
  { key: 'mgmt', canonical: 'mgmt', logical: false, parse: simpleNumber(0, 0) },
  { key: 'port-channel', canonical: 'port-channel', logical: true, parse: simpleNumber(1, 4096) },
  { key: 'vlan', canonical: 'Vlan', logical: true, feature: 'interface-vlan', parse: simpleNumber(1, 4094) },
];

function shortName(n: string): string {
  return n
    .replace(/^Ethernet/, 'Eth')
    .replace(/^loopback/, 'Lo')
    .replace(/^port-channel/, 'Po');
}

function compareInterfaces(a: string, b: string): number {
  const ka = a.replace(/\d+$/, '');
  const kb = b.replace(/\d+$/, '');
  if (ka !== kb) return ka < kb ? -1 : 1;
  return Number(/\d+$/.exec(a)?.[0] ?? 0) - Number(/\d+$/.exec(b)?.[0] ?? 0);
}

function rangeLabel(names: string[]): string {
  const first = names[0] ?? '';
  const last = names[names.length - 1] ?? '';
  return `${first}-${last.split('/').pop()}`;
}

function logicalAddress(n: string): string | null {
  const m = /^(loopback|Vlan)(\d+)$/.exec(n);
  if (!m) return null;
  const id = Number(m[2]);
  return m[1] === 'loopback'
    ? `10.255.${Math.floor(id / 256)}.${(id % 256) + 11}/32`
    : `10.${id % 256}.0.1/24`;
}

interface Port {
  name: string;
  short: string;
  mode: 'access' | 'trunk';
  vlan: number;
  speed: string;
  up: boolean;
  adminDown: boolean;
  reason: string;
  description: string | undefined;
}

/** Built-in cabling: Eth1/1-2 uplink trunks, every 4th server port empty, Eth1/49-50 spine trunks. */
function portPlan(n: number): { mode: 'access' | 'trunk'; vlan: number; speed: string; cabled: boolean } {
  if (n <= 2 || n >= 49) return { mode: 'trunk', vlan: 1, speed: n >= 49 ? '100G' : '25G', cabled: n <= 50 };
  return { mode: 'access', vlan: n % 2 ? 10 : 20, speed: '25G', cabled: n % 4 !== 0 };
}

function defaultDescriptions(): Map<string, string> {
  const d = new Map<string, string>();
  // A description that ends like a prompt: clients must not take it for one.
  d.set('Ethernet1/1', 'uplink to lab-core1#');
  d.set('Ethernet1/2', 'uplink to lab-core2');
  for (let n = 3; n <= 48; n++)
    if (portPlan(n).cabled) d.set(`Ethernet1/${n}`, `server-${String(n).padStart(2, '0')}`);
  d.set('Ethernet1/49', 'spine-1 Eth1/1');
  d.set('Ethernet1/50', 'spine-2 Eth1/1');
  d.set('mgmt0', 'oob management');
  d.set('loopback0', 'router-id');
  d.set('Vlan10', 'SERVERS gateway');
  return d;
}

/** Joins port names with ", " into lines of at most `width` characters (no trailing comma). */
function wrapPorts(ports: string[], width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const p of ports) {
    if (cur && cur.length + 2 + p.length > width) {
      lines.push(cur);
      cur = p;
    } else cur = cur ? `${cur}, ${p}` : p;
  }
  if (cur) lines.push(cur);
  return lines;
}

/** C asctime() layout NX-OS uses in configuration headers: "Tue Jun  4 10:15:30 2024". */
function asctime(d: Date): string {
  const c = clockParts(d);
  return `${c.day} ${c.month} ${String(c.date).padStart(2, ' ')} ${c.time} ${c.year}`;
}

const LAST_CHANGE = new Date(Date.UTC(2024, 5, 4, 10, 15, 30));

function configHeader(what: string, version: string): string[] {
  const startup = what.startsWith('startup');
  return [
    '',
    `!Command: show ${what}`,
    startup
      ? `!Startup config saved at: ${asctime(LAST_CHANGE)}`
      : `!Running configuration last done at: ${asctime(LAST_CHANGE)}`,
    `!Time: ${asctime(new Date())}`,
    '',
    `version ${version} Bios:version 05.45`,
  ];
}

function imageName(version: string): string {
  return `nxos.${version.replace(/[()]/g, '.').replace(/\.+$/, '')}.bin`;
}

/**
 * `show running-config` with exactly `lines` lines (at least the fixed head and tail): the "!Command" /
 * "!Running configuration last done at" / "!Time" header, features, users, VLANs, the management VRF,
 * an ACL that pads to the exact count, as many Ethernet blocks as fit, loopback0, mgmt0, lines and boot.
 */
export function nxosRunningConfig(o: {
  hostname: string;
  lines: number;
  version: string;
  kind: 'running' | 'startup';
  features: string[];
  vlans: Map<number, string>;
  interfaceBlocks: string[][];
}): string {
  const vlanIds = [...o.vlans.keys()].sort((a, b) => a - b);
  const head = [
    ...configHeader(`${o.kind}-config`, o.version),
    `hostname ${o.hostname}`,
    `vdc ${o.hostname} id 1`,
    '  limit-resource vlan minimum 16 maximum 4094',
    '  limit-resource vrf minimum 2 maximum 4096',
    '  limit-resource port-channel minimum 0 maximum 511',
    '  limit-resource u4route-mem minimum 248 maximum 248',
    '  limit-resource u6route-mem minimum 96 maximum 96',
    '  limit-resource m4route-mem minimum 58 maximum 58',
    '  limit-resource m6route-mem minimum 8 maximum 8',
    '',
    ...o.features.map((f) => `feature ${f}`),
    '',
    `username admin password 5 $5$${fakeHex(11, 8).toUpperCase()}$${fakeHex(12, 43)}  role network-admin`,
    'ip domain-lookup',
    'ip domain-name lab.example.net',
    'copp profile strict',
    `snmp-server user admin network-admin auth md5 0x${fakeHex(13, 32)} priv 0x${fakeHex(14, 32)} localizedkey`,
    'ntp server 10.0.0.53 use-vrf management',
    '',
    `vlan ${vlanIds.join(',')}`,
    ...vlanIds.filter((id) => id !== 1).flatMap((id) => [`vlan ${id}`, `  name ${o.vlans.get(id)}`]),
    '',
    'spanning-tree port type edge bpduguard default',
    'vrf context management',
    '  ip route 0.0.0.0/0 10.0.0.254',
    '',
  ];
  const tail = [
    'interface loopback0',
    '  description router-id',
    '  ip address 10.255.0.11/32',
    '',
    'interface mgmt0',
    '  vrf member management',
    '  ip address 10.0.0.11/24',
    'line console',
    'line vty',
    `boot nxos bootflash:/${imageName(o.version)}`,
  ];
  const room = Math.max(0, o.lines - head.length - tail.length);
  const interfaces: string[] = [];
  for (const block of o.interfaceBlocks) {
    if (interfaces.length + block.length > room) break;
    interfaces.push(...block);
  }
  const pad = room - interfaces.length;
  const acl: string[] = [];
  if (pad === 1) acl.push('cli alias name wr copy running-config startup-config');
  else if (pad > 1) {
    acl.push('ip access-list MGMT-IN');
    for (let i = 0; i < pad - 2; i++) {
      acl.push(
        `  ${(i + 1) * 10} permit ip 10.${100 + (Math.floor(i / 65536) % 100)}.${Math.floor(i / 256) % 256}.${i % 256}/32 any`,
      );
    }
    acl.push('');
  }
  return `${[...head, ...acl, ...interfaces, ...tail].join('\n')}\n`;
}

export function nxosVersion(hostname: string, version: string): string {
  return `${NXOS_BANNER}
Software
  BIOS: version 05.45
 NXOS: version ${version}
  BIOS compile time:  06/28/2021
  NXOS image file is: bootflash:///${imageName(version)}
  NXOS compile time:  3/29/2022 12:00:00 [03/29/2022 11:41:12]


Hardware
  cisco Nexus9000 C93180YC-FX Chassis
  Intel(R) Xeon(R) CPU D-1528 @ 1.90GHz with 24632036 kB of memory.
  Processor Board ID FDO23020ABC

  Device name: ${hostname}
  bootflash:   53298520 kB
Kernel uptime is 120 day(s), 3 hour(s), 12 minute(s), 40 second(s)

Last reset at 123456 usecs after Mon Feb  6 10:12:33 2023
  Reason: Reset Requested by CLI command reload
  System version: ${version}
  Service:

plugin
  Core Plugin, Ethernet Plugin

Active Package(s):

`;
}

const NXOS_INVENTORY = `NAME: "Chassis",  DESCR: "Nexus9000 C93180YC-FX Chassis"
PID: N9K-C93180YC-FX     ,  VID: V04 ,  SN: FDO23020ABC

NAME: "Slot 1",  DESCR: "48x10/25G + 6x40/100G Ethernet Module"
PID: N9K-C93180YC-FX     ,  VID: V04 ,  SN: FDO23020ABC

NAME: "Power Supply 1",  DESCR: "Nexus9000 C93180YC-FX Chassis Power Supply"
PID: NXA-PAC-650W-PE     ,  VID: V01 ,  SN: LIT23141ABC

`;

function nxosUsers(s: SessionInfo): string {
  const c = clockParts();
  const time = `${c.month} ${String(c.date).padStart(2, ' ')} ${c.time.slice(0, 5)}`;
  return (
    'NAME     LINE         TIME             IDLE          PID COMMENT\n' +
    `${s.username.padEnd(9)}pts/0        ${time.padEnd(17)}.          12345 (${s.remoteAddress}) session=ssh *\n`
  );
}

function nxosPing(host: string): string {
  const times = ['1.052', '0.794', '0.913', '0.881', '0.925'];
  return (
    `PING ${host} (${host}): 56 data bytes\n` +
    times.map((t, i) => `64 bytes from ${host}: icmp_seq=${i} ttl=254 time=${t} ms\n`).join('') +
    `\n--- ${host} ping statistics ---\n` +
    '5 packets transmitted, 5 packets received, 0.00% packet loss\n' +
    'round-trip min/avg/max = 0.794/0.913/1.052 ms\n'
  );
}
