// Arista EOS CLI simulator (commands, prompts and messages; the line discipline is cli-engine.ts).
//
// Modelled behaviour (Arista EOS user manual, and what Netmiko's arista_eos / scrapli's EOSDriver handle):
//   prompts      host>  host#  host(config)#  host(config-if-Et1)#  host(config-s-NAME)#
//                host(config-s-NAME-if-Et1)#  host(config-router-bgp)#  host(config-vlan-10)#
//   enable       asks "Password: " only if an enable secret is set (profile option); wrong -> "% Access denied"
//   paging       " --More-- " until `terminal length 0` ("Pagination disabled."); `terminal width N`
//                answers "Width set to N columns." (Netmiko waits for exactly these two strings)
//   errors       "% Invalid input (at token N: 'x')", "% Invalid input (privileged mode required)",
//                "% Incomplete command", "% Ambiguous command", "% Unavailable command (...)", "% Error ..."
//   sessions     `configure session NAME` ... `commit` / `abort`
//   checkpoints  `configure checkpoint save [NAME]` (privileged EXEC) keeps running-config as checkpoint:NAME,
//                device-wide, at most MAX_CHECKPOINTS (oldest dropped); `show configuration checkpoints`;
//                `rollback checkpoint:NAME` / `rollback clean-config` in a configuration session replace the
//                session's config (`commit` applies it); `configure replace checkpoint:NAME` applies one at once
//   bash         `bash` -> "Arista Networks EOS shell" and a Linux prompt "[user@host ~]$ "; `exit` returns
//   noise        Netmiko notes that "Arista will echo immediately and then when the device really responds":
//                `repeatEcho` redraws the command line when Enter arrives; `ansiNoise` adds cursor movement /
//                erase-line sequences (ESC[5D, ESC[K) and, in bash (>= 5.1, EOS 4.32+), bracketed-paste
//                mode switches (ESC[?2004h / ESC[?2004l).
import {
  applyFilter,
  CliShell,
  CommandTree,
  type CommonDeviceOptions,
  clockParts,
  type DeviceProfile,
  type FilterKind,
  fakeHex,
  type PagerStyle,
  type ParseResult,
  printPausingAtPromptLikeLines,
  type ReadLineOptions,
  type ResolvedCommon,
  resolveCommon,
  type SessionInfo,
  splitPipes,
  type Terminal,
  tokenize,
} from './cli-engine.js';
import {
  applyConfigLine,
  DeviceTimers,
  isoUtc,
  ShellRegistry,
  scaledMinutes,
  unifiedHunks,
} from './config-state.js';

export interface EosOptions extends CommonDeviceOptions {
  /** Secret asked by `enable`; default null: `enable` needs no password. */
  enableSecret?: string | null;
  /** Log in directly in privileged EXEC ("#"). */
  startPrivileged?: boolean;
  /** Add ANSI escape sequences (cursor back / erase line, bash bracketed paste). */
  ansiNoise?: boolean;
  /** Re-echo the command line when Enter is received (the echo appears twice). */
  repeatEcho?: boolean;
  /** "% Invalid input (at token N: 'x')" (default, EOS 4.2x) or the older bare "% Invalid input". */
  invalidInputDetail?: boolean;
  /** Hostname characters kept in configuration-mode prompts; default null (EOS keeps the full name). */
  configHostnameMax?: number | null;
  /** Characters of a configuration session's name shown in the prompt (default 6, as EOS does). */
  sessionNameMax?: number;
  /** Milliseconds one device minute lasts for `commit timer HH:MM:SS` (default 60000; seconds scale alike). */
  confirmMinuteMs?: number;
}

interface EosConfig extends ResolvedCommon {
  enableSecret: string | null;
  startPrivileged: boolean;
  ansiNoise: boolean;
  repeatEcho: boolean;
  invalidInputDetail: boolean;
  configHostnameMax: number | null;
  sessionNameMax: number;
  confirmMinuteMs: number;
}

type SessionState = 'pending' | 'pendingCommitTimer' | 'completed';

interface EosSession {
  name: string;
  /** The session's copy of running-config, changed by the commands typed in it. */
  lines: string[];
  state: SessionState;
  user: string;
  /** Terminal of the session that is in it now (`vty3`), '' when nobody is. */
  terminal: string;
  completedAt?: Date;
  committedBy?: string;
  /** commit timer: running-config before the commit, restored if the timer runs out. */
  checkpoint?: string[];
  deadline?: number;
  minutes?: number;
  timer?: NodeJS.Timeout | null;
}

/** Device-wide state shared by every SSH session of the simulator. */
interface EosDevice {
  hostname: string;
  running: string[];
  sessions: Map<string, EosSession>;
  history: { id: string; user: string; time: string; comment: string }[];
  timers: DeviceTimers;
  shells: ShellRegistry;
  ttys: number;
  autoNames: number;
  /** Saved checkpoints, oldest first (the checkpoint: file system). */
  checkpoints: EosCheckpoint[];
}

interface EosCheckpoint {
  name: string;
  lines: string[];
  user: string;
  time: Date;
}

const MAX_PENDING_SESSIONS = 5;
const MAX_COMPLETED_SESSIONS = 1;
const MAX_HISTORY = 50;
/** Checkpoints kept (EOS's default for `service configuration checkpoint max saved`); the oldest goes first. */
const MAX_CHECKPOINTS = 20;

/** "2024-06-04 10:15:30" (local device time, UTC here). */
function dateTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/** Saves running-config as checkpoint:NAME (a name saved again is replaced), keeping MAX_CHECKPOINTS. */
function saveCheckpoint(d: EosDevice, name: string, user: string): void {
  d.checkpoints = d.checkpoints.filter((c) => c.name !== name);
  d.checkpoints.push({ name, lines: [...d.running], user, time: new Date() });
  while (d.checkpoints.length > MAX_CHECKPOINTS) d.checkpoints.shift();
}

/** "checkpoint:NAME" -> the checkpoint, or an error line. */
function findCheckpoint(d: EosDevice, url: string): EosCheckpoint | string {
  const m = /^checkpoint:(.+)$/i.exec(url);
  const c = m ? d.checkpoints.find((x) => x.name === m[1]) : undefined;
  return c ?? `% Error: could not read ${url} (No such file or directory)\n`;
}

/** What `rollback clean-config` starts from: the factory-default configuration (modelled as near empty). */
function cleanConfig(): string[] {
  return ['! Command: show running-config', '!', 'end'];
}

function syncEosHostname(d: EosDevice): void {
  const line = d.running.find((l) => l.startsWith('hostname '));
  if (line) d.hostname = line.slice('hostname '.length).trim();
}

function pushHistory(d: EosDevice, id: string, user: string, comment: string): void {
  d.history.unshift({ id, user, time: isoUtc(new Date()), comment });
  if (d.history.length > MAX_HISTORY) d.history.length = MAX_HISTORY;
}

/** A session's commit timer ran out: running-config goes back to the checkpoint taken at the commit. */
function commitTimerExpired(d: EosDevice, s: EosSession): void {
  if (s.state !== 'pendingCommitTimer' || !s.checkpoint) return;
  d.running = [...s.checkpoint];
  d.sessions.delete(s.name);
  syncEosHostname(d);
  pushHistory(d, s.name, s.user, 'commit timer expired: config replace of commitTimerCheckPointConfig');
}

/** Keeps at most MAX_COMPLETED_SESSIONS completed sessions (oldest dropped). */
function pruneCompleted(d: EosDevice): void {
  const done = [...d.sessions.values()].filter((x) => x.state === 'completed');
  done.sort((a, b) => (a.completedAt?.getTime() ?? 0) - (b.completedAt?.getTime() ?? 0));
  while (done.length > MAX_COMPLETED_SESSIONS) {
    const old = done.shift();
    if (old) d.sessions.delete(old.name);
  }
}

export function eosProfile(options: EosOptions = {}): DeviceProfile {
  const cfg: EosConfig = {
    ...resolveCommon(options, { hostname: 'lab-sw1', trailingSpaceInPrompt: false }),
    enableSecret: options.enableSecret ?? null,
    startPrivileged: options.startPrivileged ?? false,
    ansiNoise: options.ansiNoise ?? false,
    repeatEcho: options.repeatEcho ?? false,
    invalidInputDetail: options.invalidInputDetail ?? true,
    configHostnameMax: options.configHostnameMax ?? null,
    sessionNameMax: options.sessionNameMax ?? 6,
    confirmMinuteMs: options.confirmMinuteMs ?? 60_000,
  };
  const device: EosDevice = {
    hostname: cfg.hostname,
    running: splitConfig(eosRunningConfig(cfg.hostname, cfg.runningConfigLines)),
    sessions: new Map(),
    history: [],
    timers: new DeviceTimers(),
    shells: new ShellRegistry(),
    ttys: 0,
    autoNames: 0,
    checkpoints: [],
  };
  return {
    vendor: 'arista-eos',
    username: cfg.username,
    password: cfg.password,
    authMethods: cfg.authMethods,
    terminal: cfg.terminal,
    createShell: (term, session) => {
      const shell = new EosShell(term, session, cfg, device);
      device.shells.add(shell);
      return shell;
    },
    inspectConfig: () => {
      const p = [...device.sessions.values()].find((x) => x.state === 'pendingCommitTimer');
      return {
        running: [...device.running],
        pending: p
          ? {
              kind: 'commit-timer',
              remainingMs: Math.max(0, (p.deadline ?? 0) - Date.now()),
              minutes: p.minutes ?? 0,
              session: p.name,
              user: p.user,
            }
          : null,
        history: device.history.map((h) => ({ ...h })),
        extra: {
          activeTimers: device.timers.count,
          sessions: [...device.sessions.values()].map((x) => ({
            name: x.name,
            state: x.state,
            diff: unifiedHunks(device.running, x.lines),
          })),
          checkpoints: device.checkpoints.map((c) => ({
            name: c.name,
            user: c.user,
            time: dateTime(c.time),
            lines: [...c.lines],
          })),
        },
      };
    },
    dispose: () => {
      device.timers.dispose();
      device.checkpoints = [];
    },
  };
}

function splitConfig(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** "Et1" -> "Ethernet1" (the name running-config uses). */
function longInterface(short: string): string {
  const names: [string, string][] = [
    ['Et', 'Ethernet'],
    ['Ma', 'Management'],
    ['Lo', 'Loopback'],
    ['Vl', 'Vlan'],
    ['Po', 'Port-Channel'],
  ];
  const hit = names.find(([s]) => short.startsWith(s));
  return hit ? `${hit[1]}${short.slice(hit[0].length)}` : short;
}

/** `commit timer HH:MM:SS` -> minutes (fractional). */
function parseTimer(text: string): number | null {
  const m = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const [h, min, sec] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (min > 59 || sec > 59) return null;
  const total = h * 60 + min + sec / 60;
  return total > 0 ? total : null;
}

function eosPager(ansi: boolean): PagerStyle {
  return {
    prompt: () => ' --More-- ',
    erase: (p) => (ansi ? '\r\x1b[K' : `\r${' '.repeat(p.length)}\r`),
    keyAction: (k) =>
      k === ' ' ? 'page' : k === '\r' || k === '\n' ? 'line' : k === 'q' || k === 'Q' ? 'quit' : 'ignore',
  };
}

type EosLevel = 'user' | 'priv' | 'config' | 'bash';
const FILTERS: FilterKind[] = ['include', 'exclude', 'begin', 'section'];

/** "Ethernet1" -> "Et1", "management 1" -> "Ma1" (EOS interface short names used in prompts). */
function shortInterface(raw: string): string | null {
  const compact = raw.replace(/\s+/g, '');
  const m = /^([a-z-]+)(\d[\d/.]*)$/i.exec(compact);
  if (!m) return null;
  const kind = (m[1] ?? '').toLowerCase();
  const types: [string, string][] = [
    ['ethernet', 'Et'],
    ['management', 'Ma'],
    ['loopback', 'Lo'],
    ['vlan', 'Vl'],
    ['port-channel', 'Po'],
  ];
  const hit = types.find(([full]) => full.startsWith(kind));
  return hit ? `${hit[1]}${m[2]}` : null;
}

class EosShell extends CliShell {
  private level: EosLevel;
  /** Configuration session name while in `configure session NAME`. */
  private session_: string | null = null;
  /** Sub-mode suffix: "if-Et1", "router-bgp", "vlan-10". */
  private sub: string | null = null;
  /** running-config header of the sub-mode ("interface Ethernet1"), where its lines go. */
  private ctx: string | null = null;
  private readonly tty: string;
  private readonly trees: Record<'user' | 'priv' | 'config' | 'if' | 'router', CommandTree>;
  private readonly pager: PagerStyle;

  constructor(
    term: Terminal,
    session: SessionInfo,
    private readonly cfg: EosConfig,
    private readonly device: EosDevice,
  ) {
    super(term, session);
    term.initPaging(cfg.pagingDefaultOn, cfg.terminalLength);
    this.level = cfg.startPrivileged ? 'priv' : 'user';
    this.tty = `vty${device.ttys++ + 3}`;
    this.pager = eosPager(cfg.ansiNoise);
    this.trees = {
      user: this.execTree(false),
      priv: this.execTree(true),
      config: this.configTree(),
      if: this.subTree(['description', 'switchport', 'ip', 'ipv6', 'speed', 'channel-group', 'mtu']),
      router: this.subTree(['neighbor', 'network', 'router-id', 'redistribute', 'maximum-paths']),
    };
  }

  override async run(): Promise<void> {
    try {
      await super.run();
    } finally {
      // A dropped connection leaves its session pending (EOS keeps it), with nobody in it.
      const s = this.session_ ? this.device.sessions.get(this.session_) : undefined;
      if (s?.terminal === this.tty) s.terminal = '';
      this.device.shells.delete(this);
    }
  }

  protected loginBanner(): string {
    return this.cfg.banner ? `${this.cfg.banner.replace(/\n+$/, '')}\n` : '';
  }

  protected prompt(): string {
    const h = this.device.hostname;
    const sp = this.cfg.trailingSpace ? ' ' : '';
    switch (this.level) {
      case 'user':
        return `${h}>${sp}`;
      case 'priv':
        return `${h}#${sp}`;
      case 'bash':
        return `${this.cfg.ansiNoise ? '\x1b[?2004h' : ''}[${this.session.username}@${h} ~]$ `;
      case 'config': {
        const max = this.cfg.configHostnameMax;
        const short = max !== null && h.length > max ? h.slice(0, max) : h;
        // EOS shows only the first characters of a session's name.
        const s = this.session_ ? `-s-${this.session_.slice(0, this.cfg.sessionNameMax)}` : '';
        return `${short}(config${s}${this.sub ? `-${this.sub}` : ''})#${sp}`;
      }
    }
  }

  protected override lineOptions(): ReadLineOptions {
    const cfg = this.cfg;
    const prompt = this.prompt();
    return {
      allowSuspend: this.level === 'config',
      onEnter: (line) => {
        if (this.level === 'bash') return cfg.ansiNoise ? '\x1b[?2004l' : '';
        if (cfg.repeatEcho && line.length > 0) {
          return cfg.ansiNoise ? `\x1b[${line.length}D\x1b[K${line}` : `\r${prompt}${line}`;
        }
        if (cfg.ansiNoise && line.length >= 5) return `\x1b[5D${line.slice(-5)}\x1b[K`;
        return '';
      },
    };
  }

  protected override onSuspend(): void {
    if (this.level === 'config') this.leaveConfig();
  }

  private leaveConfig(): void {
    this.level = 'priv';
    this.sub = null;
    this.ctx = null;
    const s = this.session_ ? this.device.sessions.get(this.session_) : undefined;
    if (s) s.terminal = '';
    // `end` leaves a configuration session pending (uncommitted); it is not kept here.
    this.session_ = null;
  }

  // ---- dispatch ----------------------------------------------------------------------------------------

  protected async execute(line: string): Promise<void> {
    if (this.level === 'bash') return this.term.print(this.bash(line));
    const tree = this.currentTree();
    const { command } = splitPipes(line);
    if (this.level === 'config' && this.sub) {
      const own = tree.parse(command);
      if (own.kind !== 'ok' && this.trees.config.parse(command).kind === 'ok') {
        this.sub = null; // global configuration commands are accepted from sub-modes
        this.ctx = null;
        return this.runLine(this.trees.config, line);
      }
    }
    return this.runLine(tree, line);
  }

  private currentTree(): CommandTree {
    if (this.level === 'user') return this.trees.user;
    if (this.level === 'priv') return this.trees.priv;
    if (this.sub?.startsWith('if-')) return this.trees.if;
    if (this.sub) return this.trees.router;
    return this.trees.config;
  }

  private async runLine(tree: CommandTree, line: string): Promise<void> {
    const { command, pipes } = splitPipes(line);
    const r = tree.parse(command);
    if (r.kind === 'empty') return;
    if (r.kind !== 'ok') return this.reportError(r, command);
    let noMore = false;
    const filters: { kind: FilterKind; arg: string }[] = [];
    for (const p of pipes) {
      const [kw, ...rest] = tokenize(p.text);
      const word = kw?.text.toLowerCase() ?? '';
      if (word && 'no-more'.startsWith(word) && word.startsWith('n')) {
        noMore = true;
        continue;
      }
      const kind = word ? FILTERS.find((f) => f.startsWith(word)) : undefined;
      if (!kind) {
        this.term.print(
          `% Invalid input${this.cfg.invalidInputDetail ? ` (at token 0: '${kw?.text ?? '|'}')` : ''}\n`,
        );
        return;
      }
      if (rest.length === 0) {
        this.term.print('% Incomplete command\n');
        return;
      }
      filters.push({ kind, arg: p.text.slice((rest[0] as { start: number }).start).trim() });
    }
    const ctxBefore = this.ctx;
    let out = await r.handler(r.match);
    // An accepted configuration command changes the session's copy, or running-config (configure terminal).
    if (out === undefined && this.level === 'config' && tree !== this.trees.priv) {
      this.applyLine(ctxBefore, r.match.canonical, command);
    }
    if (out === undefined) return;
    for (const f of filters) out = applyFilter(out, f.kind, f.arg);
    if (noMore) this.term.print(out);
    else await this.term.page(out, this.pager);
  }

  /** Commands that steer the CLI rather than configure anything. */
  private static readonly CONTROL = /^(end|exit|commit|abort|show|configure|rollback|do)\b/;

  private applyLine(ctxBefore: string | null, canonical: string, command: string): void {
    if (EosShell.CONTROL.test(canonical)) return;
    const target = this.session_ ? this.device.sessions.get(this.session_)?.lines : this.device.running;
    if (!target) return;
    if (this.ctx !== null && this.ctx !== ctxBefore) {
      applyConfigLine(target, null, this.ctx, 3); // entered a sub-mode: its block exists from now on
      return;
    }
    applyConfigLine(target, this.ctx, command, 3);
    if (!this.session_) syncEosHostname(this.device);
  }

  private reportError(r: ParseResult, command: string): void {
    switch (r.kind) {
      case 'ambiguous':
        this.term.print('% Ambiguous command\n');
        return;
      case 'incomplete':
        this.term.print('% Incomplete command\n');
        return;
      case 'invalid': {
        // Unprivileged users get a distinct message for commands that exist in privileged mode.
        if (this.level === 'user' && this.trees.priv.parse(command).kind !== 'invalid') {
          this.term.print('% Invalid input (privileged mode required)\n');
          return;
        }
        const detail = this.cfg.invalidInputDetail ? ` (at token ${r.index}: '${r.token?.text ?? ''}')` : '';
        this.term.print(`% Invalid input${detail}\n`);
        return;
      }
      default:
        return;
    }
  }

  // ---- EXEC --------------------------------------------------------------------------------------------

  private execTree(privileged: boolean): CommandTree {
    const t = new CommandTree();
    const cfg = this.cfg;
    t.add('enable', () => this.enable());
    t.add('disable', () => {
      this.level = 'user';
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
      return this.term.screenLength === 0 ? 'Pagination disabled.\n' : undefined;
    });
    t.add('terminal width <width:number>', (m) => {
      this.term.screenWidth = Number(m.args.width);
      return `Width set to ${this.term.screenWidth} columns.\n`;
    });
    t.add('terminal monitor', () => undefined);
    t.add('ping <host...>', (m) => eosPing(m.args.host ?? ''));
    t.add('show version', () => eosVersion());
    t.add('show clock', () => {
      const c = clockParts();
      return `${c.day} ${c.month} ${String(c.date).padStart(2, ' ')} ${c.time} ${c.year}\nTimezone: UTC\nClock source: local\n`;
    });
    t.add('show interfaces status', () => eosInterfacesStatus());
    t.add('show ip interface brief', () => EOS_IP_INT_BRIEF);
    t.add('show interfaces description', async () => {
      await printPausingAtPromptLikeLines(this.term, EOS_DESCRIPTION, cfg.falsePromptPauseMs);
      return undefined;
    });
    t.add('show banner motd', async () => {
      const text = cfg.banner || `Authorized access only.\nWelcome to ${this.device.hostname}#`;
      await printPausingAtPromptLikeLines(this.term, `${text}\n`, cfg.falsePromptPauseMs);
      return undefined;
    });
    t.add(
      'show inventory',
      () =>
        'System information\n  Model                    Description\n  ------------------------ ----------------------------------------------\n  vEOS-lab                 Arista Networks vEOS\n\n',
    );
    t.add('show privilege', () => `Current privilege level is ${this.level === 'user' ? 1 : 15}\n`);
    // Hardware-specific commands are missing on virtual platforms.
    t.add(
      'show platform <what...>',
      () => '% Unavailable command (not supported on this hardware platform)\n',
    );
    if (!privileged) return t;

    t.add('configure', () => this.enterConfig(null));
    t.add('configure terminal', () => this.enterConfig(null));
    t.add('configure session', () => this.enterConfig(`sess-${4000 + this.device.autoNames++}-1`));
    t.add('configure session <name>', (m) => this.enterConfig(m.args.name ?? 'session'));
    t.add('configure session <name> commit', (m) => this.commitSession(m.args.name ?? '', null));
    t.add('configure session <name> abort', (m) => this.abortSession(m.args.name ?? ''));
    t.add('no configure session <name>', (m) => this.abortSession(m.args.name ?? ''));
    t.add('configure checkpoint save', () => {
      const day = dateTime(new Date()).slice(0, 10).replace(/-/g, '');
      let n = 0;
      while (this.device.checkpoints.some((c) => c.name === `ckp-${day}-${n}`)) n++;
      saveCheckpoint(this.device, `ckp-${day}-${n}`, this.session.username);
      return undefined;
    });
    t.add('configure checkpoint save <name>', (m) => {
      saveCheckpoint(this.device, m.args.name ?? '', this.session.username);
      return undefined;
    });
    t.add('configure replace <source>', (m) => this.configureReplace(m.args.source ?? ''));
    t.add('show session-config named <name>', (m) => this.sessionConfig(m.args.name ?? '', false));
    t.add('show session-config named <name> diffs', (m) => this.sessionConfig(m.args.name ?? '', true));
    this.addSessionShows(t);
    t.add('show startup-config', () => eosRunningConfig(cfg.hostname, cfg.runningConfigLines));
    t.add('write memory', () => 'Copy completed successfully.\n');
    t.add('copy <src> <dst>', (m) =>
      /^run/i.test(m.args.src ?? '') && /^start/i.test(m.args.dst ?? '')
        ? 'Copy completed successfully.\n'
        : `% Error copying ${m.args.src} to ${m.args.dst} (No such file or directory)\n`,
    );
    t.add('bash', () => {
      this.level = 'bash';
      return '\nArista Networks EOS shell\n\n';
    });
    return t;
  }

  private enterConfig(sessionName: string | null): string | undefined {
    const d = this.device;
    if (sessionName !== null) {
      let s = d.sessions.get(sessionName);
      if (s?.state === 'completed')
        return `% Cannot enter session ${sessionName} (session already committed)\n`;
      if (!s) {
        const pending = [...d.sessions.values()].filter((x) => x.state === 'pending').length;
        if (pending >= MAX_PENDING_SESSIONS) return '% Maximum number of pending sessions has been reached\n';
        s = {
          name: sessionName,
          lines: [...d.running],
          state: 'pending',
          user: this.session.username,
          terminal: '',
        };
        d.sessions.set(sessionName, s);
      }
      s.terminal = this.tty;
    }
    this.level = 'config';
    this.session_ = sessionName;
    this.sub = null;
    this.ctx = null;
    return undefined;
  }

  /** `show running-config` of the device now (the "! device:" line follows the host name). */
  private runningText(): string {
    const lines = this.device.running.map((l) =>
      l.startsWith('! device: ') ? l.replace(/^! device: \S+/, `! device: ${this.device.hostname}`) : l,
    );
    return `${lines.join('\n')}\n`;
  }

  /** `show` commands for configurations and sessions, accepted in EXEC and configuration modes. */
  private addSessionShows(t: CommandTree): void {
    t.add('show running-config', () => this.runningText());
    t.add('show configuration sessions', () => this.showSessions(false));
    t.add('show configuration sessions detail', () => this.showSessions(true));
    t.add('show configuration checkpoints', () => this.showCheckpoints());
  }

  /** `show configuration checkpoints`: the limit, then one row per checkpoint, oldest first. */
  private showCheckpoints(): string {
    const cps = this.device.checkpoints;
    const nameW = Math.max(32, ...cps.map((c) => c.name.length + 1));
    const rows = [
      `Maximum number of checkpoints: ${MAX_CHECKPOINTS}`,
      `${'Filename'.padEnd(nameW)} ${'Date'.padEnd(20)} User`,
      `${'-'.repeat(nameW)} ${'-'.repeat(20)} ${'-'.repeat(10)}`,
      ...cps.map((c) => `${c.name.padEnd(nameW)} ${dateTime(c.time).padEnd(20)} ${c.user}`),
    ];
    return `${rows.join('\n')}\n`;
  }

  /** `rollback checkpoint:NAME` / `rollback clean-config`: the session's config becomes that one. */
  private rollbackSession(source: string): string | undefined {
    const s = this.session_ ? this.device.sessions.get(this.session_) : undefined;
    if (!s) return `% Invalid input${this.cfg.invalidInputDetail ? " (at token 0: 'rollback')" : ''}\n`;
    if (/^clean-config$/i.test(source)) {
      s.lines = cleanConfig();
      return undefined;
    }
    if (!/^checkpoint:/i.test(source)) {
      return `% Invalid input${this.cfg.invalidInputDetail ? ` (at token 1: '${source}')` : ''}\n`;
    }
    const c = findCheckpoint(this.device, source);
    if (typeof c === 'string') return c;
    s.lines = [...c.lines];
    this.sub = null;
    this.ctx = null;
    return undefined;
  }

  /** `configure replace checkpoint:NAME`: running-config becomes the checkpoint at once. */
  private configureReplace(source: string): string | undefined {
    const d = this.device;
    if (!/^checkpoint:/i.test(source)) {
      return `% Error: could not read ${source} (No such file or directory)\n`;
    }
    const c = findCheckpoint(d, source);
    if (typeof c === 'string') return c;
    d.running = [...c.lines];
    syncEosHostname(d);
    pushHistory(d, `replace-${c.name}`, this.session.username, `config replace of ${source}`);
    return undefined;
  }

  private sessionConfig(name: string, diffs: boolean): string {
    const s = this.device.sessions.get(name);
    if (!s) return `% Session ${name} does not exist\n`;
    if (!diffs) return `${s.lines.join('\n')}\n`;
    const body = unifiedHunks(this.device.running, s.lines);
    return body ? `--- system:/running-config\n+++ session:/${name}-session-config\n${body}` : '';
  }

  /** `show configuration sessions [detail]`: limits, then one row per session ("*" = the one you are in). */
  private showSessions(detail: boolean): string {
    const d = this.device;
    const rows: string[] = [];
    const timed = [...d.sessions.values()].find((x) => x.state === 'pendingCommitTimer');
    const left = (x: EosSession) => {
      const sec = Math.max(0, Math.ceil(((x.deadline ?? 0) - Date.now()) / (this.cfg.confirmMinuteMs / 60)));
      return `${Math.floor(sec / 60)}m${sec % 60}s`;
    };
    const head = [
      `Maximum number of completed sessions: ${MAX_COMPLETED_SESSIONS}`,
      `Maximum number of pending sessions: ${MAX_PENDING_SESSIONS}`,
      '',
    ];
    if (detail && timed) head.splice(2, 0, `Session with pending commit timer: ${timed.name}`);
    const nameW = Math.max(22, ...[...d.sessions.keys()].map((n) => n.length + 1));
    const widths = detail ? [nameW, 20, 10, 10, 16] : [nameW, 20, 10, 10];
    const titles = ['Name', 'State', 'User', 'Terminal', 'Commit Time Left'];
    rows.push(`  ${widths.map((w, i) => (titles[i] ?? '').padEnd(w)).join(' ')}`.trimEnd());
    rows.push(`  ${widths.map((w) => '-'.repeat(w - 1)).join('  ')}`);
    for (const x of d.sessions.values()) {
      const mark = x.name === this.session_ ? '* ' : '  ';
      const cells = [
        x.name.padEnd(nameW),
        x.state.padEnd(20),
        (x.state === 'completed' ? '' : x.user).padEnd(10),
        x.terminal.padEnd(10),
      ];
      if (detail) cells.push(x.state === 'pendingCommitTimer' ? left(x) : '');
      rows.push(`${mark}${cells.join(' ')}`.trimEnd());
    }
    return `${[...head, ...rows].join('\n')}\n`;
  }

  /**
   * Commits a session: its copy replaces running-config. With a timer (minutes) the commit is tentative
   * until `configure session NAME commit`; committing a session whose timer runs confirms it.
   */
  private commitSession(name: string, timerMinutes: number | null): string | undefined {
    const d = this.device;
    const s = d.sessions.get(name);
    if (!s) return `% Session ${name} does not exist\n`;
    if (s.state === 'completed') return `% Session ${name} has already been committed\n`;
    if (s.state === 'pendingCommitTimer') {
      if (timerMinutes !== null) return this.armTimer(s, timerMinutes);
      d.timers.cancel(s.timer);
      s.timer = null;
      delete s.checkpoint;
      this.complete(s);
      pushHistory(d, s.name, this.session.username, 'commit timer confirmed');
      return undefined;
    }
    const other = [...d.sessions.values()].find((x) => x.state === 'pendingCommitTimer');
    if (other && timerMinutes !== null) {
      return `% Cannot commit session ${name}: session ${other.name} has a pending commit timer\n`;
    }
    const before = [...d.running];
    d.running = [...s.lines];
    syncEosHostname(d);
    if (timerMinutes === null) {
      this.complete(s);
      pushHistory(d, s.name, this.session.username, 'committed');
      return undefined;
    }
    s.checkpoint = before;
    s.state = 'pendingCommitTimer';
    pushHistory(d, s.name, this.session.username, 'committed with commit timer');
    return this.armTimer(s, timerMinutes);
  }

  private armTimer(s: EosSession, minutes: number): undefined {
    const d = this.device;
    d.timers.cancel(s.timer);
    const ms = scaledMinutes(minutes, this.cfg.confirmMinuteMs);
    s.minutes = minutes;
    s.deadline = Date.now() + ms;
    s.timer = d.timers.after(ms, () => commitTimerExpired(d, s));
    return undefined;
  }

  private complete(s: EosSession): void {
    s.state = 'completed';
    s.completedAt = new Date();
    s.committedBy = this.session.username;
    s.terminal = '';
    pruneCompleted(this.device);
  }

  /** `abort` / `configure session NAME abort`: the session goes; a running commit timer rolls back now. */
  private abortSession(name: string): string | undefined {
    const d = this.device;
    const s = d.sessions.get(name);
    if (!s) return `% Session ${name} does not exist\n`;
    if (s.state === 'completed') return `% Session ${name} has already been committed\n`;
    if (s.state === 'pendingCommitTimer' && s.checkpoint) {
      d.timers.cancel(s.timer);
      d.running = [...s.checkpoint];
      syncEosHostname(d);
      pushHistory(d, s.name, this.session.username, 'aborted: config replace of commitTimerCheckPointConfig');
    }
    d.sessions.delete(name);
    return undefined;
  }

  private async enable(): Promise<undefined> {
    if (this.level !== 'user') return undefined;
    if (this.cfg.enableSecret === null) {
      this.level = 'priv';
      return undefined;
    }
    this.term.writeRaw('Password: ');
    const r = await this.term.readLine({ echo: false });
    if (r.kind !== 'line') return undefined;
    if (r.text === this.cfg.enableSecret) this.level = 'priv';
    else this.term.print('% Access denied\n');
    return undefined;
  }

  // ---- configuration -----------------------------------------------------------------------------------

  private addConfigCommon(t: CommandTree, top: boolean): CommandTree {
    t.add('end', () => {
      this.leaveConfig();
      return undefined;
    });
    t.add('exit', () => {
      if (top) this.leaveConfig();
      else {
        this.sub = null;
        this.ctx = null;
      }
      return undefined;
    });
    t.add('no <rest...>', () => undefined);
    const inSession = (fn: (name: string) => string | undefined) => () => {
      const name = this.session_;
      if (!name) return `% Invalid input${this.cfg.invalidInputDetail ? " (at token 0: 'commit')" : ''}\n`;
      const out = fn(name);
      if (out === undefined) this.leaveConfig();
      return out;
    };
    t.add(
      'commit',
      inSession((name) => this.commitSession(name, null)),
    );
    t.add('commit timer <hhmmss>', (m) => {
      const minutes = parseTimer(m.args.hhmmss ?? '');
      if (minutes === null) return `% Invalid input (at token 2: '${m.args.hhmmss}')\n`;
      return inSession((name) => this.commitSession(name, minutes))();
    });
    t.add(
      'abort',
      inSession((name) => this.abortSession(name)),
    );
    t.add('rollback <source>', (m) => this.rollbackSession(m.args.source ?? ''));
    t.add('show session-config', () =>
      this.session_ ? this.sessionConfig(this.session_, false) : '% Not in a configuration session\n',
    );
    t.add('show session-config diffs', () =>
      this.session_ ? this.sessionConfig(this.session_, true) : '% Not in a configuration session\n',
    );
    this.addSessionShows(t);
    return t;
  }

  private configTree(): CommandTree {
    const t = this.addConfigCommon(new CommandTree(), true);
    t.add('hostname <name>', () => undefined); // applied to running-config / the session by applyLine()
    t.add('interface <name...>', (m) => {
      const short = shortInterface(m.args.name ?? '');
      if (!short) return `% Invalid input (at token 1: '${m.args.name}')\n`;
      this.sub = `if-${short}`;
      this.ctx = `interface ${longInterface(short)}`;
      return undefined;
    });
    t.add('router bgp <asn:number>', (m) => {
      this.sub = 'router-bgp';
      this.ctx = `router bgp ${m.args.asn}`;
      return undefined;
    });
    t.add('router ospf <id:number>', (m) => {
      this.sub = 'router-ospf';
      this.ctx = `router ospf ${m.args.id}`;
      return undefined;
    });
    t.add('vlan <id:number>', (m) => {
      this.sub = `vlan-${m.args.id}`;
      this.ctx = `vlan ${m.args.id}`;
      return undefined;
    });
    for (const kw of ['ip', 'ipv6', 'username', 'ntp', 'logging', 'spanning-tree', 'management', 'aaa']) {
      t.add(`${kw} <rest...>`, () => undefined);
    }
    return t;
  }

  private subTree(keywords: string[]): CommandTree {
    const t = this.addConfigCommon(new CommandTree(), false);
    t.add('shutdown', () => undefined);
    for (const kw of keywords) t.add(`${kw} <rest...>`, () => undefined);
    return t;
  }

  // ---- bash --------------------------------------------------------------------------------------------

  /** A minimal Linux shell under `bash`; `exit` / `logout` return to the EOS CLI. */
  private bash(line: string): string {
    const [cmd, ...rest] = line.trim().split(/\s+/);
    const user = this.session.username;
    switch (cmd) {
      case undefined:
      case '':
        return '';
      case 'exit':
      case 'logout':
        this.level = 'priv';
        return '';
      case 'whoami':
        return `${user}\n`;
      case 'hostname':
        return `${this.device.hostname}\n`;
      case 'pwd':
        return `/home/${user}\n`;
      case 'id':
        return `uid=2001(${user}) gid=88(eosadmin) groups=88(eosadmin)\n`;
      case 'uname':
        return rest.includes('-a')
          ? `Linux ${this.device.hostname} 4.19.142.Ar-30233447.4283M #1 SMP PREEMPT x86_64 x86_64 x86_64 GNU/Linux\n`
          : 'Linux\n';
      case 'echo':
        return `${rest.join(' ').replace(/^["']|["']$/g, '')}\n`;
      case 'ls':
      case 'true':
      case 'cd':
        return '';
      default:
        return `-bash: ${cmd}: command not found\n`;
    }
  }
}

// ---- canned output -------------------------------------------------------------------------------------

function eosPing(host: string): string {
  return (
    `PING ${host} (${host}) 72(100) bytes of data.\n` +
    `80 bytes from ${host}: icmp_seq=1 ttl=64 time=0.120 ms\n` +
    `80 bytes from ${host}: icmp_seq=2 ttl=64 time=0.098 ms\n\n` +
    `--- ${host} ping statistics ---\n` +
    '2 packets transmitted, 2 received, 0% packet loss, time 1ms\n'
  );
}

export function eosVersion(): string {
  return `Arista vEOS-lab
Hardware version: 
Serial number: ${fakeHex(11, 32).toUpperCase()}
Hardware MAC address: 5254.00${fakeHex(12, 2)}.${fakeHex(13, 4)}
System MAC address: 5254.00${fakeHex(12, 2)}.${fakeHex(13, 4)}

Software image version: 4.28.3M
Architecture: x86_64
Internal build version: 4.28.3M-28837868.4283M
Internal build ID: 6ab5f6ae-8af4-4d5c-a8d9-fb1d7b35b7e1
Image format version: 1.0
Image optimization: None

Uptime: 3 weeks, 2 days, 4 hours and 12 minutes
Total memory: 4001952 kB
Free memory: 2427908 kB

`;
}

const EOS_IP_INT_BRIEF = `                                                                          Address
Interface         IP Address            Status       Protocol          MTU    Owner  
----------------- --------------------- ------------ -------------- ---------- -------
Loopback0         10.255.0.2/32         up           up               65535          
Management1       192.168.0.10/24       up           up                1500          
Vlan10            10.10.0.1/24          up           up                1500          
`;

const EOS_DESCRIPTION = `Interface                      Status         Protocol           Description
Et1                            up             up                 uplink to spine1#
Et2                            up             up                 peer lab-sw2>
Et3                            admin down     down               
Ma1                            up             up                 oob
`;

function eosInterfacesStatus(): string {
  const lines = [
    'Port       Name        Status       Vlan     Duplex Speed  Type            Flags Encapsulation',
  ];
  for (let i = 1; i <= 48; i++) {
    const up = i % 6 !== 0;
    lines.push(
      `Et${String(i).padEnd(9)}${(up ? `server-${i}` : '').padEnd(12)}${(up ? 'connected' : 'notconnect').padEnd(13)}` +
        `${String(i <= 2 ? 'trunk' : 10 + (i % 4)).padEnd(9)}full   10G    10GBASE-T`,
    );
  }
  lines.push('Ma1                    connected    routed   a-full a-1G   10/100/1000');
  return `${lines.join('\n')}\n`;
}

/** `show running-config` with exactly `lines` lines (at least the fixed head and tail). */
export function eosRunningConfig(hostname: string, lines: number): string {
  const head = [
    '! Command: show running-config',
    `! device: ${hostname} (vEOS-lab, EOS-4.28.3M)`,
    '!',
    '! boot system flash:/vEOS-lab.swi',
    '!',
    'no aaa root',
    '!',
    `username admin privilege 15 role network-admin secret sha512 $6$${fakeHex(21, 16)}$${fakeHex(22, 86)}`,
    '!',
    'service routing protocols model multi-agent',
    '!',
    `hostname ${hostname}`,
    '!',
    'spanning-tree mode mstp',
    '!',
    'vlan 10-29',
    '!',
  ];
  const tail = [
    'interface Management1',
    '   ip address 192.168.0.10/24',
    '!',
    'ip routing',
    '!',
    'ip route 0.0.0.0/0 192.168.0.1',
    '!',
    'management api http-commands',
    '   no shutdown',
    '!',
    'end',
  ];
  const room = Math.max(0, lines - head.length - tail.length);
  const body: string[] = [];
  const blocks = Math.floor(room / 4);
  for (let i = 0; i < blocks; i++) {
    body.push(
      `interface Ethernet${i + 1}`,
      `   description server-${i + 1}`,
      `   switchport access vlan ${10 + (i % 20)}`,
      '!',
    );
  }
  const pad = room - blocks * 4;
  if (pad === 1) body.push('!');
  else if (pad > 1) {
    body.push('ip access-list standard MGMT');
    for (let i = 0; i < pad - 1; i++) body.push(`   ${(i + 1) * 10} permit 10.99.${i}.0/24`);
  }
  return `${[...head, ...body, ...tail].join('\n')}\n`;
}
