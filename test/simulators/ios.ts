// Cisco IOS / IOS-XE CLI simulator (commands, prompts and messages; the line discipline is cli-engine.ts).
//
// Modelled behaviour (Cisco IOS command references / configuration guides, and what Netmiko's cisco_ios
// and scrapli's IOSXEDriver expect):
//   prompts      host>  host#  host(config)#  host(config-if)#  host(config-subif)#  host(config-line)#
//                host(config-router)#; in configuration modes a long hostname is cut (configHostnameMax).
//   enable       "Password: " without echo; a wrong secret re-asks, after three failures "% Bad secrets" and
//                back to ">" (or "% Access denied" at once, as AAA-backed images answer).
//   config       "configure terminal" banner line, "exit" up one level, "end" / Ctrl+Z to "#", commands of
//                the global configuration mode are accepted from sub-modes (and switch back to it),
//                optional %SYS-5-CONFIG_I log line.
//   paging       " --More-- " (Space = next page, Enter = next line, any other key ends the output), the
//                prompt is erased with backspaces; "terminal length 0" turns it off.
//   errors       caret line + "% Invalid input detected at '^' marker.", "% Ambiguous command:  \"...\"",
//                "% Incomplete command.", "Translating ..." + "% Unknown command or computer name, ...",
//                "Command authorization failed." (AAA command authorization).
import {
  applyFilter,
  CliShell,
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
  type ResolvedCommon,
  resolveCommon,
  type SessionInfo,
  splitPipes,
  type Terminal,
  tokenize,
} from './cli-engine.js';
import {
  applyConfigLine,
  contextualDiff,
  DeviceTimers,
  isoUtc,
  ShellRegistry,
  scaledMinutes,
} from './config-state.js';

export interface IosOptions extends CommonDeviceOptions {
  /** Secret asked by `enable` (default 'cisco'); null: `enable` enters privileged mode without a password. */
  enableSecret?: string | null;
  /** How a wrong secret is answered: re-ask up to 3 times then "% Bad secrets" (default) or "% Access denied". */
  enableFailure?: 'bad-secrets' | 'access-denied';
  /** Log in directly at privilege level 15 (prompt "#"). */
  startPrivileged?: boolean;
  /** Hostname characters kept in configuration-mode prompts (default 20); null keeps the full name. */
  configHostnameMax?: number | null;
  /**
   * %SYS-5-CONFIG_I after leaving configuration mode: 'off' (default, no `terminal monitor`), 'synchronous'
   * (message after the prompt, then the prompt is redrawn, as with `logging synchronous`), 'async' (message
   * after the prompt, no redraw).
   */
  configLog?: 'off' | 'synchronous' | 'async';
  /** Commands refused by AAA command authorization, matched against the expanded command text. */
  deniedCommands?: RegExp[];
  /** Wording of `show version` (default 'ios-xe'). */
  platform?: 'ios' | 'ios-xe';
  /** `archive` with a `path` is configured (default true): show archive, revert timers, configure replace time. */
  archive?: boolean;
  /** Archive `path` (default 'flash:archive-config'; files are PATH-1, PATH-2, ...). */
  archivePath?: string;
  /** Archive `maximum` (default 10): older archive files are dropped. */
  archiveMaximum?: number;
  /** Milliseconds one device minute lasts for revert timers (default 60000; tests use e.g. 200). */
  confirmMinuteMs?: number;
}

interface IosConfig extends ResolvedCommon {
  enableSecret: string | null;
  enableFailure: 'bad-secrets' | 'access-denied';
  startPrivileged: boolean;
  configHostnameMax: number | null;
  configLog: 'off' | 'synchronous' | 'async';
  deniedCommands: RegExp[];
  platform: 'ios' | 'ios-xe';
  archive: boolean;
  archivePath: string;
  archiveMaximum: number;
  confirmMinuteMs: number;
}

/** State shared by all sessions to the same simulated device. */
interface IosDevice {
  hostname: string;
  /** running-config lines (without the "Building configuration..." preamble). */
  running: string[];
  startup: string[];
  /** Files saved with `copy running-config flash:NAME`. */
  files: Map<string, string[]>;
  /** Archive files, oldest first; `number` as `show archive` lists them. */
  archive: { number: number; name: string; lines: string[]; time: Date; user: string }[];
  nextArchive: number;
  /** Rollback Confirmed Change (revert timer) waiting for `configure confirm`. */
  revert: {
    deadline: number;
    minutes: number;
    user: string;
    since: Date;
    file: string;
    lines: string[];
    timer: NodeJS.Timeout | null;
  } | null;
  timers: DeviceTimers;
  shells: ShellRegistry<IosShell>;
}

const MAX_FILES = 50;

/** running-config lines of `show running-config` text (preamble and trailing newline dropped). */
function configBody(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(3);
}

function renderRunning(lines: string[]): string {
  const config = lines.join('\n');
  return `Building configuration...\n\nCurrent configuration : ${config.length + 1} bytes\n${config}\n`;
}

function syncIosHostname(d: IosDevice): void {
  const line = d.running.find((l) => l.startsWith('hostname '));
  if (line) d.hostname = line.slice('hostname '.length).trim();
}

/** Saves running-config as the next archive file (the oldest goes beyond `maximum`). */
function archiveRunning(d: IosDevice, cfg: IosConfig, user: string): string {
  const name = `${cfg.archivePath}-${d.nextArchive}`;
  d.archive.push({ number: d.nextArchive, name, lines: [...d.running], time: new Date(), user });
  d.nextArchive++;
  while (d.archive.length > cfg.archiveMaximum) d.archive.shift();
  return name;
}

/** The revert timer ran out: running-config is replaced by the checkpoint taken when it was armed. */
function revertExpired(d: IosDevice): void {
  const r = d.revert;
  if (!r) return;
  d.revert = null;
  d.running = [...r.lines];
  syncIosHostname(d);
  const c = clockParts();
  const stamp = `*${c.month} ${String(c.date).padStart(2, ' ')} ${c.time}.${c.ms}`;
  const msg =
    `${stamp}: %ARCHIVE_DIFF-5-ROLLBK_CNFMD_CHG_ROLLBACK_START: Start rolling to: ${r.file}\n` +
    `${stamp}: %ARCHIVE_DIFF-5-ROLLBK_CNFMD_CHG_ROLLBACK_DONE: Rollback to ${r.file} done\n`;
  for (const s of d.shells.all()) if (s.monitor) s.asyncMessage(msg);
}

/** "Gi0/1" -> "GigabitEthernet0/1" (the name running-config uses). */
function longIosInterface(raw: string): string {
  const m = /^([a-z-]+)\s*(\d.*)$/i.exec(raw.trim());
  if (!m) return raw.trim();
  const kinds = [
    'GigabitEthernet',
    'TenGigabitEthernet',
    'FastEthernet',
    'Loopback',
    'Port-channel',
    'Vlan',
    'Tunnel',
  ];
  const typed = (m[1] ?? '').toLowerCase();
  const hit = kinds.find((k) => k.toLowerCase().startsWith(typed));
  return `${hit ?? m[1]}${(m[2] ?? '').replace(/\s+/g, '')}`;
}

export function iosProfile(options: IosOptions = {}): DeviceProfile {
  const cfg: IosConfig = {
    ...resolveCommon(options, { hostname: 'lab-rtr1', trailingSpaceInPrompt: false }),
    enableSecret: options.enableSecret === undefined ? 'cisco' : options.enableSecret,
    enableFailure: options.enableFailure ?? 'bad-secrets',
    startPrivileged: options.startPrivileged ?? false,
    configHostnameMax: options.configHostnameMax === undefined ? 20 : options.configHostnameMax,
    configLog: options.configLog ?? 'off',
    deniedCommands: options.deniedCommands ?? [],
    platform: options.platform ?? 'ios-xe',
    archive: options.archive ?? true,
    archivePath: options.archivePath ?? 'flash:archive-config',
    archiveMaximum: options.archiveMaximum ?? 10,
    confirmMinuteMs: options.confirmMinuteMs ?? 60_000,
  };
  const running = configBody(iosRunningConfig(cfg.hostname, cfg.runningConfigLines));
  const device: IosDevice = {
    hostname: cfg.hostname,
    running,
    startup: [...running],
    files: new Map(),
    archive: [],
    nextArchive: 1,
    revert: null,
    timers: new DeviceTimers(),
    shells: new ShellRegistry<IosShell>(),
  };
  return {
    vendor: 'cisco-ios',
    username: cfg.username,
    password: cfg.password,
    authMethods: cfg.authMethods,
    terminal: cfg.terminal,
    createShell: (term, session) => {
      const shell = new IosShell(term, session, cfg, device);
      device.shells.add(shell);
      return shell;
    },
    inspectConfig: () => {
      const r = device.revert;
      return {
        running: [...device.running],
        pending: r
          ? {
              kind: 'revert-timer',
              remainingMs: Math.max(0, r.deadline - Date.now()),
              minutes: r.minutes,
              user: r.user,
            }
          : null,
        history: [...device.archive]
          .reverse()
          .map((a) => ({ id: a.name, user: a.user, time: isoUtc(a.time) })),
        extra: {
          activeTimers: device.timers.count,
          archiveEnabled: cfg.archive,
          revertCheckpoint: r?.file ?? null,
          files: [...device.files.keys()],
          startupDiffers: device.startup.join('\n') !== device.running.join('\n'),
        },
      };
    },
    dispose: () => device.timers.dispose(),
  };
}

/** IOS pager: " --More-- ", erased with backspace-space-backspace; any key but Space/Enter ends the output. */
export const IOS_PAGER: PagerStyle = {
  prompt: () => ' --More-- ',
  erase: (p) => '\b'.repeat(p.length) + ' '.repeat(p.length) + '\b'.repeat(p.length),
  keyAction: (k) => (k === ' ' ? 'page' : k === '\r' || k === '\n' ? 'line' : 'quit'),
};

type IosMode = 'user' | 'priv' | 'config' | 'config-if' | 'config-subif' | 'config-line' | 'config-router';
const CONFIG_MODES: IosMode[] = ['config', 'config-if', 'config-subif', 'config-line', 'config-router'];
const FILTERS: FilterKind[] = ['include', 'exclude', 'begin', 'section', 'count'];

class IosShell extends CliShell {
  private mode: IosMode;
  private readonly trees: Record<'user' | 'priv' | 'config' | 'if' | 'line' | 'router', CommandTree>;
  private pendingLog: string | null = null;
  /** `terminal monitor`: device log messages (revert timer) are shown on this session. */
  monitor = false;
  /** running-config header of the current sub-mode ("interface GigabitEthernet1"). */
  private ctx: string | null = null;
  /** Prompt as it was displayed when the current line was typed (for caret positions). */
  private typedPrompt = '';

  constructor(
    term: Terminal,
    session: SessionInfo,
    private readonly cfg: IosConfig,
    private readonly device: IosDevice,
  ) {
    super(term, session);
    term.initPaging(cfg.pagingDefaultOn, cfg.terminalLength);
    this.mode = cfg.startPrivileged ? 'priv' : 'user';
    this.trees = {
      user: this.execTree(false),
      priv: this.execTree(true),
      config: this.globalConfigTree(),
      if: this.interfaceTree(),
      line: this.lineTree(),
      router: this.routerTree(),
    };
  }

  private get inConfig(): boolean {
    return CONFIG_MODES.includes(this.mode);
  }

  protected loginBanner(): string {
    return this.cfg.banner ? `\n${this.cfg.banner.replace(/\n+$/, '')}\n\n` : '';
  }

  protected prompt(): string {
    const h = this.device.hostname;
    const sp = this.cfg.trailingSpace ? ' ' : '';
    if (this.mode === 'user') return `${h}>${sp}`;
    if (this.mode === 'priv') return `${h}#${sp}`;
    // IOS shortens the hostname in configuration modes so the prompt stays short.
    const max = this.cfg.configHostnameMax;
    const short = max !== null && h.length > max ? h.slice(0, max) : h;
    return `${short}(${this.mode})#${sp}`;
  }

  protected override lineOptions() {
    return { allowSuspend: this.inConfig };
  }

  /** Ctrl+Z in a configuration mode = `end`. */
  protected override onSuspend(): void {
    if (this.inConfig) this.leaveConfig();
  }

  protected override afterPrompt(): void {
    if (!this.pendingLog) return;
    const msg = this.pendingLog;
    this.pendingLog = null;
    // The message arrives after the prompt; with `logging synchronous` IOS reprints the prompt below it.
    this.term.writeRaw(`\r\n${msg}\r\n${this.cfg.configLog === 'synchronous' ? this.prompt() : ''}`);
  }

  private leaveConfig(): void {
    this.mode = 'priv';
    this.ctx = null;
    if (this.cfg.configLog === 'off') return;
    const c = clockParts();
    const date = `${c.month} ${String(c.date).padStart(2, ' ')} ${c.time}.${c.ms}`;
    this.pendingLog = `*${date}: %SYS-5-CONFIG_I: Configured from console by ${this.session.username} on vty0 (${this.session.remoteAddress})`;
  }

  // ---- dispatch ----------------------------------------------------------------------------------------

  protected async execute(line: string): Promise<void> {
    this.typedPrompt = this.prompt();
    // `do <exec command>` runs a privileged EXEC command from any configuration mode.
    const doMatch = this.inConfig ? /^(\s*do)(\s+|$)/i.exec(line) : null;
    if (doMatch) {
      const offset = doMatch[0].length;
      if (line.trim().length <= 2) return this.term.print('% Incomplete command.\n\n');
      return this.runLine(this.trees.priv, line.slice(offset), offset, false);
    }
    const tree = this.currentTree();
    const own = tree.parse(splitPipes(line).command);
    if (own.kind !== 'ok' && tree !== this.trees.config && this.inConfig) {
      // The IOS parser falls back to the global configuration mode for commands a sub-mode lacks.
      const global = this.trees.config.parse(splitPipes(line).command);
      if (global.kind === 'ok') {
        this.mode = 'config';
        this.ctx = null;
        return this.runLine(this.trees.config, line, 0, true);
      }
    }
    return this.runLine(tree, line, 0, this.inConfig);
  }

  private currentTree(): CommandTree {
    switch (this.mode) {
      case 'user':
        return this.trees.user;
      case 'priv':
        return this.trees.priv;
      case 'config':
        return this.trees.config;
      case 'config-if':
      case 'config-subif':
        return this.trees.if;
      case 'config-line':
        return this.trees.line;
      case 'config-router':
        return this.trees.router;
    }
  }

  private async runLine(tree: CommandTree, line: string, offset: number, configContext: boolean) {
    const { command, pipes } = splitPipes(line);
    const r = tree.parse(command);
    if (r.kind === 'empty') return;
    if (r.kind !== 'ok') return this.reportError(r, line, offset, configContext);
    if (this.cfg.deniedCommands.some((re) => re.test(r.match.canonical))) {
      this.term.print('Command authorization failed.\n\n');
      return;
    }
    // Output modifiers: `| include|exclude|begin|section|count <regex>`, only after show commands.
    const filters: { kind: FilterKind; arg: string }[] = [];
    for (const p of pipes) {
      const [kw, ...rest] = tokenize(p.text);
      const col = offset + p.start + (kw?.start ?? 0);
      const kind = kw ? FILTERS.find((f) => f.startsWith(kw.text.toLowerCase())) : undefined;
      if (!kw || !kind || !r.match.canonical.startsWith('show')) {
        this.printInvalid(kw ? col : offset + p.start - 1);
        return;
      }
      if (rest.length === 0) {
        this.term.print('% Incomplete command.\n\n');
        return;
      }
      filters.push({ kind, arg: p.text.slice((rest[0] as { start: number }).start).trim() });
    }
    const ctxBefore = this.ctx;
    const wasConfig = this.inConfig && tree !== this.trees.priv;
    let out = await r.handler(r.match);
    // Configuration commands take effect at once (IOS has no candidate): running-config changes.
    if (out === undefined && wasConfig && !/^(end|exit|do)\b/.test(r.match.canonical)) {
      const d = this.device;
      if (this.ctx !== null && this.ctx !== ctxBefore) applyConfigLine(d.running, null, this.ctx, 1);
      else applyConfigLine(d.running, this.ctx, command, 1);
      syncIosHostname(d);
    }
    if (out === undefined) return;
    for (const f of filters) out = applyFilter(out, f.kind, f.arg);
    await this.term.page(out, IOS_PAGER);
  }

  private printInvalid(column: number): void {
    const col = lastLineLength(this.typedPrompt) + column;
    this.term.print(`${caretLine(col)}\n% Invalid input detected at '^' marker.\n\n`);
  }

  private reportError(r: ParseResult, line: string, offset: number, configContext: boolean): void {
    switch (r.kind) {
      case 'ambiguous':
        this.term.print(`% Ambiguous command:  "${line.trim()}"\n`);
        return;
      case 'incomplete':
        this.term.print('% Incomplete command.\n\n');
        return;
      case 'invalid': {
        // A lone unknown word in EXEC mode is taken as a host name to telnet to (no ip domain-lookup).
        if (!configContext && r.index === 0 && r.tokens.length === 1 && offset === 0) {
          const word = r.tokens[0]?.text ?? '';
          this.term.print(
            `Translating "${word}"\n% Unknown command or computer name, or unable to find computer address\n`,
          );
          return;
        }
        this.printInvalid(offset + r.column);
        return;
      }
      default:
        return;
    }
  }

  // ---- EXEC commands -----------------------------------------------------------------------------------

  private execTree(privileged: boolean): CommandTree {
    const t = new CommandTree();
    const o = this.cfg;
    t.add('enable', () => this.enable());
    t.add('enable <level:number>', () => this.enable());
    t.add('disable', () => {
      this.mode = 'user';
      return undefined;
    });
    for (const w of ['exit', 'logout', 'quit']) {
      t.add(w, () => {
        this.logout();
        return undefined;
      });
    }
    t.add('terminal length <len:number>', (m) => {
      this.term.screenLength = Number(m.args.len);
      return undefined;
    });
    t.add('terminal width <width:number>', (m) => {
      this.term.screenWidth = Number(m.args.width);
      return undefined;
    });
    t.add('terminal monitor', () => {
      this.monitor = true;
      return undefined;
    });
    t.add('terminal no monitor', () => {
      this.monitor = false;
      return undefined;
    });
    t.add('telnet <host...>', (m) => `Trying ${m.args.host} ...\n% Connection refused by remote host\n\n`);
    t.add('ssh <args...>', () => '% Connection refused by remote host\n');
    t.add('ping <host...>', (m) => pingOutput(m.args.host ?? ''));
    t.add(
      'traceroute <host...>',
      (m) => `Type escape sequence to abort.\nTracing the route to ${m.args.host}\n`,
    );
    t.add('show version', () => iosVersion(this.device.hostname, o.platform));
    t.add('show clock', () => {
      const c = clockParts();
      return `*${c.time}.${c.ms} UTC ${c.day} ${c.month} ${c.date} ${c.year}\n`;
    });
    t.add('show ip interface brief', () => IP_INT_BRIEF);
    t.add('show interfaces status', () => interfacesStatus());
    t.add('show interfaces description', async () => {
      await printPausingAtPromptLikeLines(this.term, INT_DESCRIPTION, o.falsePromptPauseMs);
      return undefined;
    });
    t.add('show banner motd', async () => {
      // A line ending in "#" that is NOT the prompt: false-prompt matches must be survivable.
      const text = o.banner || `Authorized access only.\nWelcome to ${this.device.hostname}#`;
      await printPausingAtPromptLikeLines(this.term, `${text}\n`, o.falsePromptPauseMs);
      return undefined;
    });
    t.add(
      'show terminal',
      () =>
        `Line 2, Location: "", Type: "${this.term.termType}"\n` +
        `Length: ${this.term.screenLength} lines, Width: ${this.term.screenWidth} columns\n` +
        'Baud rate (TX/RX) is 9600/9600\n' +
        `Status: PSI Enabled, Ready, Active${this.term.screenLength ? ', Automore On' : ''}\n`,
    );
    t.add('show inventory', () => IOS_INVENTORY);
    t.add('show privilege', () => `Current privilege level is ${this.mode === 'user' ? 1 : 15}\n`);
    t.add('show users', () => USERS(this.session));
    if (!privileged) return t;

    t.add('configure terminal', () => this.enterConfig());
    t.add('configure', async () => {
      this.term.writeRaw('Configuring from terminal, memory, or network [terminal]? ');
      const r = await this.term.readLine();
      if (r.kind !== 'line') return undefined;
      const answer = r.text.trim().toLowerCase();
      if (answer === '' || 'terminal'.startsWith(answer)) return this.enterConfig();
      return undefined;
    });
    t.add('show running-config', () => renderRunning(this.device.running));
    t.add('show startup-config', () => renderRunning(this.device.startup));
    t.add('write memory', () => {
      this.device.startup = [...this.device.running];
      return 'Building configuration...\n[OK]\n';
    });
    t.add('copy running-config startup-config', async () => {
      this.term.writeRaw('Destination filename [startup-config]? ');
      const r = await this.term.readLine();
      if (r.kind !== 'line') return undefined;
      this.device.startup = [...this.device.running];
      return 'Building configuration...\n[OK]\n';
    });
    t.add('copy running-config <dst>', async (m) => {
      const dst = m.args.dst ?? '';
      if (!/^(flash|bootflash|disk0|nvram):\S+/.test(dst))
        return `%Error opening ${dst} (Invalid argument)\n`;
      const base = dst.replace(/^.*[:/]/, '');
      this.term.writeRaw(`Destination filename [${base}]? `);
      const r = await this.term.readLine();
      if (r.kind !== 'line') return undefined;
      const d = this.device;
      if (!d.files.has(dst) && d.files.size >= MAX_FILES)
        return `%Error opening ${dst} (No space left on device)\n`;
      d.files.set(dst, [...d.running]);
      const bytes = d.running.join('\n').length + 1;
      return `${bytes} bytes copied in 0.128 secs (${Math.round(bytes / 0.128)} bytes/sec)\n`;
    });
    this.addArchiveCommands(t);
    t.add('clear counters', async () => {
      this.term.writeRaw('Clear "show interface" counters on all interfaces [confirm]');
      const key = await this.term.readKey();
      this.term.writeRaw('\r\n');
      return key === '\r' || key === 'y' ? '' : undefined;
    });
    return t;
  }

  private enterConfig(): string {
    this.mode = 'config';
    this.ctx = null;
    return 'Enter configuration commands, one per line.  End with CNTL/Z.\n';
  }

  // ---- archive, Rollback Confirmed Change, configure replace ------------------------------------------

  private addArchiveCommands(t: CommandTree): void {
    const o = this.cfg;
    const d = this.device;
    const NOT_ENABLED = ' Archive feature not enabled\n';
    const TURN_ON = '%Please turn config archive on before using Rollback Confirmed Change\n';
    t.add('show archive', () => (o.archive ? this.showArchive() : NOT_ENABLED));
    t.add('archive config', () => {
      if (!o.archive) return NOT_ENABLED;
      archiveRunning(d, o, this.session.username);
      return undefined;
    });
    t.add('configure terminal revert timer <minutes:number>', (m) => {
      if (!o.archive) return TURN_ON;
      const minutes = Number(m.args.minutes);
      if (minutes < 1 || minutes > 120) return this.invalidAt(m, 4);
      let note = '';
      if (!d.revert) {
        const file = archiveRunning(d, o, this.session.username);
        d.revert = {
          deadline: 0,
          minutes,
          user: this.session.username,
          since: new Date(),
          file,
          lines: [...d.running],
          timer: null,
        };
        note = `Rollback Confirmed Change: Backing up current running config to ${file}\n\n`;
      }
      this.armRevert(minutes);
      return `${note}${this.enterConfig()}`;
    });
    t.add('configure confirm', () => {
      if (!d.revert) return '%No Rollback Confirmed Change pending\n';
      d.timers.cancel(d.revert.timer);
      d.revert = null;
      return undefined;
    });
    t.add('configure revert now', () => {
      if (!d.revert) return '%No Rollback Confirmed Change pending\n';
      d.timers.cancel(d.revert.timer);
      revertExpired(d);
      return undefined;
    });
    t.add('configure revert timer <minutes:number>', (m) => {
      if (!d.revert) return '%No Rollback Confirmed Change pending\n';
      this.armRevert(Number(m.args.minutes));
      return undefined;
    });
    const replace = (m: CommandMatch, force: boolean, minutes: number | null) =>
      this.configureReplace(m.args.file ?? '', force, minutes);
    t.add('configure replace <file>', (m) => replace(m, false, null));
    t.add('configure replace <file> force', (m) => replace(m, true, null));
    t.add('configure replace <file> time <minutes:number>', (m) => replace(m, false, Number(m.args.minutes)));
    t.add('configure replace <file> force time <minutes:number>', (m) =>
      replace(m, true, Number(m.args.minutes)),
    );
    t.add('show archive config differences', () => contextualDiff(d.startup, d.running));
    t.add('show archive config differences <file1>', (m) => this.differences(m.args.file1 ?? '', null));
    t.add('show archive config differences <file1> <file2>', (m) =>
      this.differences(m.args.file1 ?? '', m.args.file2 ?? ''),
    );
    t.add('show archive config rollback timer', () => {
      const r = d.revert;
      if (!r) return '%No Rollback Confirmed Change pending\n';
      const c = clockParts(r.since);
      const leftMs = Math.max(0, r.deadline - Date.now());
      const leftSec = Math.ceil((leftMs / o.confirmMinuteMs) * 60);
      return (
        `Time configured(or reset): ${c.time} UTC ${c.day} ${c.month} ${c.date} ${c.year}\n` +
        'Timer type: Revert\n' +
        `Timer value: ${r.minutes} min\n` +
        `Time remaining: ${Math.floor(leftSec / 60)} min ${leftSec % 60} sec\n` +
        `User: ${r.user}\n`
      );
    });
  }

  /** (Re)starts the revert timer; when it runs out running-config goes back to the checkpoint. */
  private armRevert(minutes: number): void {
    const d = this.device;
    const r = d.revert;
    if (!r) return;
    d.timers.cancel(r.timer);
    const ms = scaledMinutes(minutes, this.cfg.confirmMinuteMs);
    r.minutes = minutes;
    r.since = new Date();
    r.deadline = Date.now() + ms;
    r.timer = d.timers.after(ms, () => revertExpired(d));
  }

  private invalidAt(m: CommandMatch, tokenIndex: number): undefined {
    const tok = m.tokens[tokenIndex];
    this.printInvalid(tok ? tok.start : m.line.length);
    return undefined;
  }

  /** A configuration file by name: archive files, copies in flash, nvram:startup-config. */
  private readFile(name: string): string[] | null {
    const d = this.device;
    if (/^(nvram:)?startup-config$/.test(name)) return d.startup;
    if (/^(system:)?running-config$/.test(name)) return d.running;
    const a = d.archive.find((x) => x.name === name);
    return a ? a.lines : (d.files.get(name) ?? null);
  }

  private differences(file1: string, file2: string | null): string {
    const a = this.readFile(file1);
    if (!a) return `%Error opening ${file1} (File not found)\n`;
    const b = file2 === null ? this.device.running : this.readFile(file2);
    if (!b) return `%Error opening ${file2} (File not found)\n`;
    return contextualDiff(a, b);
  }

  /** `show archive`: maximum, count, next name, then one row per slot ("<- Most Recent"). */
  private showArchive(): string {
    const d = this.device;
    const o = this.cfg;
    const rows = [
      `The maximum archive configurations allowed is ${o.archiveMaximum}.`,
      `There are currently ${d.archive.length} archive configurations saved.`,
      `The next archive file will be named ${o.archivePath}-${d.nextArchive}`,
      ' Archive #  Name',
    ];
    const last = d.archive[d.archive.length - 1];
    for (let i = 0; i < o.archiveMaximum; i++) {
      const a = d.archive[i];
      const num = String(i + 1).padStart(4);
      rows.push(a ? `${num}        ${a.name}${a === last ? ' <- Most Recent' : ''}` : num);
    }
    return `${rows.join('\n')}\n`;
  }

  /**
   * configure replace FILE [force] [time N]: running-config becomes FILE. Without `force` IOS asks first.
   * With `time N` (needs the archive) the old running-config is archived and restored unless
   * `configure confirm` comes within N minutes.
   */
  private async configureReplace(
    file: string,
    force: boolean,
    minutes: number | null,
  ): Promise<string | undefined> {
    const d = this.device;
    const o = this.cfg;
    if (minutes !== null && !o.archive)
      return '%Please turn config archive on before using Rollback Confirmed Change\n';
    const target = this.readFile(file);
    if (!target) return `%Error opening ${file} (File not found)\n`;
    if (!force) {
      this.term.writeRaw(
        'This will apply all necessary additions and deletions\r\nto replace the current running configuration with the\r\n' +
          'contents of the specified configuration file, which is\r\nassumed to be a complete configuration, not a partial\r\n' +
          'configuration. Enter Y if you are sure you want to proceed. ? [no]: ',
      );
      const r = await this.term.readLine();
      if (r.kind !== 'line' || !/^y(es)?$/i.test(r.text.trim())) return undefined;
    }
    let note = '';
    if (minutes !== null && !d.revert) {
      const backup = archiveRunning(d, o, this.session.username);
      d.revert = {
        deadline: 0,
        minutes,
        user: this.session.username,
        since: new Date(),
        file: backup,
        lines: [...d.running],
        timer: null,
      };
      note = `Rollback Confirmed Change: Backing up current running config to ${backup}\n`;
    }
    const same = target.join('\n') === d.running.join('\n');
    d.running = [...target];
    syncIosHostname(d);
    if (minutes !== null) this.armRevert(minutes);
    return `${note}Total number of passes: ${same ? 0 : 1}\nRollback Done\n`;
  }

  /**
   * enable: with a secret configured, "Password: " is asked (typed characters are not echoed). A wrong
   * secret re-asks; after the third failure IOS prints "% Bad secrets" and stays in user EXEC.
   */
  private async enable(): Promise<undefined> {
    if (this.mode !== 'user') return undefined;
    const secret = this.cfg.enableSecret;
    if (secret === null) {
      this.mode = 'priv';
      return undefined;
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      this.term.writeRaw('Password: ');
      const r = await this.term.readLine({ echo: false });
      if (r.kind !== 'line') return undefined;
      if (r.text === secret) {
        this.mode = 'priv';
        return undefined;
      }
      if (this.cfg.enableFailure === 'access-denied') {
        this.term.print('% Access denied\n\n');
        return undefined;
      }
    }
    this.term.print('% Bad secrets\n\n');
    return undefined;
  }

  // ---- configuration commands --------------------------------------------------------------------------

  /** Commands common to every configuration mode. */
  private addConfigCommon(t: CommandTree, parent: IosMode): CommandTree {
    t.add('end', () => {
      this.leaveConfig();
      return undefined;
    });
    t.add('exit', () => {
      if (parent === 'priv') this.leaveConfig();
      else {
        this.mode = parent;
        this.ctx = null;
      }
      return undefined;
    });
    t.add('no <rest...>', () => undefined);
    return t;
  }

  private globalConfigTree(): CommandTree {
    const t = this.addConfigCommon(new CommandTree(), 'priv');
    const accept = () => undefined;
    t.add('hostname <name>', (m) => {
      this.device.hostname = m.args.name ?? this.device.hostname;
      return undefined;
    });
    t.add('interface <name...>', (m) => {
      this.mode = (m.args.name ?? '').includes('.') ? 'config-subif' : 'config-if';
      this.ctx = `interface ${longIosInterface(m.args.name ?? '')}`;
      return undefined;
    });
    t.add('line <kind> <range...>', (m) => {
      this.mode = 'config-line';
      this.ctx = `line ${m.args.kind} ${(m.args.range ?? '').replace(/\s+/g, ' ')}`;
      return undefined;
    });
    for (const proto of ['ospf', 'eigrp', 'bgp']) {
      t.add(`router ${proto} <id:number>`, (m) => {
        this.mode = 'config-router';
        this.ctx = `router ${proto} ${m.args.id}`;
        return undefined;
      });
    }
    for (const kw of [
      'aaa',
      'access-list',
      'banner',
      'crypto',
      'enable',
      'ip',
      'ipv6',
      'logging',
      'ntp',
      'service',
      'snmp-server',
      'spanning-tree',
      'username',
      'vlan',
    ]) {
      t.add(`${kw} <rest...>`, accept);
    }
    return t;
  }

  private interfaceTree(): CommandTree {
    const t = this.addConfigCommon(new CommandTree(), 'config');
    const accept = () => undefined;
    t.add('shutdown', accept);
    t.add('mtu <bytes:number>', accept);
    for (const kw of [
      'description',
      'ip',
      'ipv6',
      'switchport',
      'speed',
      'duplex',
      'negotiation',
      'channel-group',
      'spanning-tree',
      'encapsulation',
      'load-interval',
      'cdp',
    ]) {
      t.add(`${kw} <rest...>`, accept);
    }
    return t;
  }

  private lineTree(): CommandTree {
    const t = this.addConfigCommon(new CommandTree(), 'config');
    const accept = () => undefined;
    t.add('login', accept);
    t.add('logging synchronous', accept);
    t.add('length <lines:number>', accept);
    t.add('width <cols:number>', accept);
    for (const kw of ['exec-timeout', 'login', 'transport', 'password', 'privilege', 'access-class']) {
      t.add(`${kw} <rest...>`, accept);
    }
    return t;
  }

  private routerTree(): CommandTree {
    const t = this.addConfigCommon(new CommandTree(), 'config');
    const accept = () => undefined;
    for (const kw of ['network', 'neighbor', 'router-id', 'passive-interface', 'redistribute', 'area']) {
      t.add(`${kw} <rest...>`, accept);
    }
    return t;
  }
}

// ---- canned output -------------------------------------------------------------------------------------

function pingOutput(host: string): string {
  return (
    'Type escape sequence to abort.\n' +
    `Sending 5, 100-byte ICMP Echos to ${host}, timeout is 2 seconds:\n` +
    '!!!!!\n' +
    'Success rate is 100 percent (5/5), round-trip min/avg/max = 1/1/2 ms\n'
  );
}

function USERS(s: SessionInfo): string {
  return (
    '    Line       User       Host(s)              Idle       Location\n' +
    `*  2 vty 0     ${s.username.padEnd(10)} idle                 00:00:00 ${s.remoteAddress}\n\n` +
    '  Interface    User               Mode         Idle     Peer Address\n\n'
  );
}

export function iosVersion(hostname: string, platform: 'ios' | 'ios-xe'): string {
  const serial = `9${fakeHex(7, 10).toUpperCase()}`;
  if (platform === 'ios') {
    return `Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M8, RELEASE SOFTWARE (fc2)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2021 by Cisco Systems, Inc.
Compiled Thu 04-Feb-21 01:37 by prod_rel_team

ROM: System Bootstrap, Version 15.0(1r)M16, RELEASE SOFTWARE (fc1)

${hostname} uptime is 12 weeks, 3 days, 4 hours, 12 minutes
System returned to ROM by power-on
System image file is "flash0:c2900-universalk9-mz.SPA.157-3.M8.bin"
Last reload type: Normal Reload

This product contains cryptographic features and is subject to United
States and local country laws governing import, export, transfer and
use. Delivery of Cisco cryptographic products does not imply
third-party authority to import, export, distribute or use encryption.
Importers, exporters, distributors and users are responsible for
compliance with U.S. and local country laws. By using this product you
agree to comply with applicable laws and regulations. If you are unable
to comply with U.S. and local laws, return this product immediately.

Cisco CISCO2911/K9 (revision 1.0) with 483328K/40960K bytes of memory.
Processor board ID FTX${serial}
3 Gigabit Ethernet interfaces
DRAM configuration is 64 bits wide with parity enabled.
255K bytes of non-volatile configuration memory.
250880K bytes of ATA System CompactFlash 0 (Read/Write)

License Info:
License UDI:
-------------------------------------------------
Device#   PID                   SN
-------------------------------------------------
*0        CISCO2911/K9          FTX${serial}

Configuration register is 0x2102

`;
  }
  return `Cisco IOS XE Software, Version 17.03.04a
Cisco IOS Software [Amsterdam], Virtual XE Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 17.3.4a, RELEASE SOFTWARE (fc3)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2021 by Cisco Systems, Inc.
Compiled Tue 20-Jul-21 04:59 by mcpre


Cisco IOS-XE software, Copyright (c) 2005-2021 by cisco Systems, Inc.
All rights reserved.  Certain components of Cisco IOS-XE software are
licensed under the GNU General Public License ("GPL") Version 2.0.  The
software code licensed under GPL Version 2.0 is free software that comes
with ABSOLUTELY NO WARRANTY.  You can redistribute and/or modify such
GPL code under the terms of GPL Version 2.0.  For more details, see the
documentation or "License Notice" file accompanying the IOS-XE software,
or the applicable URL provided on the flyer accompanying the IOS-XE
software.


ROM: IOS-XE ROMMON

${hostname} uptime is 12 weeks, 3 days, 4 hours, 12 minutes
Uptime for this control processor is 12 weeks, 3 days, 4 hours, 14 minutes
System returned to ROM by reload
System image file is "bootflash:packages.conf"
Last reload reason: reload



This product contains cryptographic features and is subject to United
States and local country laws governing import, export, transfer and
use. Delivery of Cisco cryptographic products does not imply
third-party authority to import, export, distribute or use encryption.

License Level: ax
License Type: N/A(Smart License Enabled)
Next reload license Level: ax

The current throughput level is 1000 kbps


Smart Licensing Status: UNREGISTERED/EVAL EXPIRED

cisco CSR1000V (VXE) processor (revision VXE) with 2071829K/3075K bytes of memory.
Processor board ID ${serial}
Router operating mode: Autonomous
4 Gigabit Ethernet interfaces
32768K bytes of non-volatile configuration memory.
3978488K bytes of physical memory.
6188032K bytes of virtual hard disk at bootflash:.

Configuration register is 0x2102

`;
}

const IOS_INVENTORY = `NAME: "Chassis", DESCR: "Cisco CSR1000V Chassis"
PID: CSR1000V          , VID: V00  , SN: 9ZT0QXKXN1E

NAME: "module R0", DESCR: "Cisco CSR1000V Route Processor"
PID: CSR1000V          , VID: V00  , SN: JAB1303001C

`;

const IP_INT_BRIEF = `Interface              IP-Address      OK? Method Status                Protocol
GigabitEthernet1       10.0.0.1        YES NVRAM  up                    up      
GigabitEthernet2       10.0.12.1       YES NVRAM  up                    up      
GigabitEthernet3       unassigned      YES NVRAM  administratively down down    
GigabitEthernet4       192.168.255.1   YES NVRAM  up                    up      
Loopback0              10.255.0.1      YES NVRAM  up                    up      
`;

const INT_DESCRIPTION = `Interface                      Status         Protocol Description
Gi1                            up             up       uplink to core-sw1#
Gi2                            up             up       link to lab-rtr2>
Gi3                            admin down     down     
Gi4                            up             up       mgmt
Lo0                            up             up       router-id
`;

function interfacesStatus(): string {
  const lines = ['', 'Port      Name               Status       Vlan       Duplex  Speed Type'];
  for (let i = 1; i <= 48; i++) {
    const up = i % 5 !== 0;
    lines.push(
      `Gi1/0/${String(i).padEnd(4)}${(up ? `host-${i}` : '').padEnd(19)}${(up ? 'connected' : 'notconnect').padEnd(13)}` +
        `${String(i <= 2 ? 'trunk' : 10 + (i % 4)).padEnd(11)}${up ? 'a-full a-1000' : '  auto   auto'} 10/100/1000BaseTX`,
    );
  }
  lines.push('Te1/1/1                      connected    trunk        full    10G SFP-10GBase-SR');
  return `${lines.join('\n')}\n`;
}

/**
 * `show running-config` with exactly `lines` lines (minimum: the fixed head and tail): "Building
 * configuration...", "Current configuration : N bytes", global settings, one block per access port, an ACL
 * to pad to the exact count, line settings and "end".
 */
export function iosRunningConfig(hostname: string, lines: number): string {
  const head = [
    '!',
    '! Last configuration change at 10:15:30 UTC Tue Jun 4 2024 by admin',
    '!',
    'version 17.3',
    'service timestamps debug datetime msec',
    'service timestamps log datetime msec',
    'service password-encryption',
    '!',
    `hostname ${hostname}`,
    '!',
    'boot-start-marker',
    'boot-end-marker',
    '!',
    'vrf definition Mgmt-intf',
    ' address-family ipv4',
    ' exit-address-family',
    '!',
    `enable secret 9 $9$${fakeHex(3, 14)}$${fakeHex(4, 43)}`,
    '!',
    'no aaa new-model',
    '!',
    'no ip domain lookup',
    'ip domain name lab.example.net',
    '!',
    `username admin privilege 15 secret 9 $9$${fakeHex(5, 14)}$${fakeHex(6, 43)}`,
    '!',
    'ip ssh version 2',
    '!',
  ];
  const tail = [
    '!',
    'ip forward-protocol nd',
    'ip route 0.0.0.0 0.0.0.0 10.0.0.254',
    '!',
    'line con 0',
    ' exec-timeout 0 0',
    ' logging synchronous',
    ' stopbits 1',
    'line vty 0 4',
    ' login local',
    ' transport input ssh',
    '!',
    'end',
  ];
  const preamble = 3; // Building configuration... / blank / Current configuration
  const room = Math.max(0, lines - preamble - head.length - tail.length);
  const body: string[] = [];
  const blocks = Math.floor(room / 6);
  for (let i = 0; i < blocks; i++) {
    const name = `GigabitEthernet${Math.floor(i / 48) + 1}/0/${(i % 48) + 1}`;
    body.push(
      `interface ${name}`,
      ` description access port ${i + 1}`,
      ` switchport access vlan ${10 + (i % 20)}`,
      ' switchport mode access',
      ' spanning-tree portfast',
      '!',
    );
  }
  const pad = room - blocks * 6;
  if (pad === 1) body.push('!');
  else if (pad > 1) {
    body.push('ip access-list standard MGMT');
    for (let i = 0; i < pad - 1; i++) body.push(` permit 10.99.${i}.0 0.0.0.255`);
  }
  const config = [...head, ...body, ...tail].join('\n');
  return `Building configuration...\n\nCurrent configuration : ${config.length + 1} bytes\n${config}\n`;
}
