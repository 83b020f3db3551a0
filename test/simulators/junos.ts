// Juniper Junos CLI simulator (commands, prompts and messages; the line discipline is cli-engine.ts).
//
// Modelled behaviour (Junos CLI user guide, and what Netmiko's juniper_junos / scrapli's JunosDriver handle):
//   prompts      "user@host> " (operational), "[edit ...]" line + "user@host# " (configuration), a blank
//                line before every prompt, optional cluster line "{master:0}" / "{primary:node0}" (in
//                configuration mode on the same line as "[edit]"), optional missing trailing space.
//   configure    "configure" / "configure exclusive" / "configure private" -> "Entering configuration mode";
//                `edit`, `up`, `top`, `exit` (one level up, or leaves at the top), `exit configuration-mode`;
//                uncommitted changes -> "Exit with uncommitted changes? [yes,no] (yes)" (exclusive/private:
//                "Discard uncommitted changes? [yes,no] (yes)"); `commit` -> "commit complete".
//   paging       "---(more)---" / "---(more 42%)---"; `set cli screen-length 0` ("Screen length set to 0"),
//                `set cli screen-width 511`, `| no-more`.
//   typing       complete-on-space is on by default ("sh" + Space echoes "ow "), `set cli complete-on-space off`.
//   errors       caret line + "unknown command." / "syntax error, expecting <command>." / "syntax error." /
//                "missing mandatory argument.", "'x' is ambiguous." + "Possible completions:", "error: ...".
//   root         logging in as root lands in the FreeBSD shell ("root@host:~ # "); `cli` starts the CLI.
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
  type ReadLineOptions,
  type ResolvedCommon,
  resolveCommon,
  type SessionInfo,
  splitLines,
  splitPipes,
  type Terminal,
  tokenize,
} from './cli-engine.js';
import { DeviceTimers, isoUtc, ShellRegistry, scaledMinutes } from './config-state.js';
import {
  applyDelete,
  applySet,
  cloneTree,
  compareTrees,
  type JNode,
  parseJunosText,
  renderJunos,
  toSetLines,
  treesEqual,
} from './junos-config.js';

export interface JunosOptions extends CommonDeviceOptions {
  /** Chassis-cluster line shown above the prompt, e.g. '{master:0}' or '{primary:node0}'. */
  clusterLine?: string | null;
  /** Where a login lands: the CLI, or the FreeBSD shell (default: shell for root, CLI otherwise). */
  loginShell?: 'cli' | 'shell';
  /** Root shell prompt: 'modern' "root@host:~ # " (default), 'legacy' "root@host% " or 'bare' "% ". */
  rootShellPrompt?: 'modern' | 'legacy' | 'bare';
  /** Model in `show version` (default 'vsrx'). */
  model?: string;
  /** Milliseconds one device minute lasts for `commit confirmed N` (default 60000; tests use e.g. 200). */
  confirmMinuteMs?: number;
}

interface JunosConfig extends ResolvedCommon {
  clusterLine: string | null;
  loginShell: 'cli' | 'shell';
  rootShellPrompt: 'modern' | 'legacy' | 'bare';
  model: string;
  confirmMinuteMs: number;
}

interface JunosCommit {
  time: Date;
  user: string;
  /** `via cli`, `via other` (the automatic rollback). */
  via: string;
  comment?: string;
  /** Minutes of a `commit confirmed`. */
  confirmedMinutes?: number;
  config: JNode;
}

/** Device-wide state: every SSH session of the simulator sees the same configuration databases. */
interface JunosDevice {
  hostname: string;
  /** Commit history, newest first: index = rollback number (0 = active configuration). At most 50. */
  commits: JunosCommit[];
  /** The shared candidate (`configure`, `configure exclusive`). */
  shared: JNode;
  /** `configure exclusive` lock holder. */
  lock: { shell: JunosShell; since: Date } | null;
  /** A `commit confirmed` waiting for confirmation. */
  pending: {
    deadline: number;
    minutes: number;
    user: string;
    timer: NodeJS.Timeout | null;
    revertTo: JNode;
  } | null;
  timers: DeviceTimers;
  shells: ShellRegistry<JunosShell>;
  ttys: number;
}

const MAX_ROLLBACKS = 50;
const MAX_LOAD_LINES = 100_000;

const JUNOS_RELEASE = '21.4R3-S1.5';
const DEFAULT_BANNER = '--- JUNOS 21.4R3-S1.5 Kernel 64-bit  JNPR-12.1-20230120.0a3ef1d_buil';

export function junosProfile(options: JunosOptions = {}): DeviceProfile {
  const common = resolveCommon(options, {
    hostname: 'lab-fw1',
    trailingSpaceInPrompt: true,
    banner: DEFAULT_BANNER,
  });
  const cfg: JunosConfig = {
    ...common,
    clusterLine: options.clusterLine ?? null,
    loginShell: options.loginShell ?? (common.username === 'root' ? 'shell' : 'cli'),
    rootShellPrompt: options.rootShellPrompt ?? 'modern',
    model: options.model ?? 'vsrx',
    confirmMinuteMs: options.confirmMinuteMs ?? 60_000,
  };
  const initial = parseJunosText(junosConfiguration(cfg.hostname, cfg.runningConfigLines));
  const device: JunosDevice = {
    hostname: cfg.hostname,
    commits: [{ time: new Date('2024-06-04T10:15:30Z'), user: 'admin', via: 'cli', config: initial }],
    shared: cloneTree(initial),
    lock: null,
    pending: null,
    timers: new DeviceTimers(),
    shells: new ShellRegistry<JunosShell>(),
    ttys: 0,
  };
  return {
    vendor: 'juniper-junos',
    username: cfg.username,
    password: cfg.password,
    authMethods: cfg.authMethods,
    terminal: cfg.terminal,
    createShell: (term, session) => {
      const shell = new JunosShell(term, session, cfg, device);
      device.shells.add(shell);
      return shell;
    },
    inspectConfig: () => {
      const active = activeConfig(device);
      const p = device.pending;
      return {
        running: toSetLines(active),
        pending: p
          ? {
              kind: 'commit-confirmed',
              remainingMs: Math.max(0, p.deadline - Date.now()),
              minutes: p.minutes,
              user: p.user,
            }
          : null,
        history: device.commits.map((c, i) => ({
          id: String(i),
          user: c.user,
          time: isoUtc(c.time),
          ...(c.comment === undefined ? {} : { comment: c.comment }),
        })),
        extra: {
          activeTimers: device.timers.count,
          sharedCandidateDiff: compareTrees(active, device.shared),
          exclusiveLock: device.lock ? device.lock.shell.tty : null,
        },
      };
    },
    dispose: () => device.timers.dispose(),
  };
}

function activeConfig(d: JunosDevice): JNode {
  return (d.commits[0] as JunosCommit).config;
}

/** Keeps the prompt's host name in step with the active configuration's `system host-name`. */
function syncHostname(d: JunosDevice): void {
  const system = activeConfig(d).children.find((c) => !c.leaf && c.name === 'system');
  const leaf = system?.children.find((c) => c.leaf && c.name.startsWith('host-name '));
  if (leaf) d.hostname = leaf.name.slice('host-name '.length).replace(/^"|"$/g, '');
}

/** `commit confirmed` was not confirmed in time: the device loads rollback 1 and commits it by itself. */
function autoRollback(d: JunosDevice): void {
  const p = d.pending;
  if (!p) return;
  d.pending = null;
  d.commits.unshift({ time: new Date(), user: 'root', via: 'other', config: cloneTree(p.revertTo) });
  if (d.commits.length > MAX_ROLLBACKS) d.commits.length = MAX_ROLLBACKS;
  d.shared = cloneTree(p.revertTo);
  syncHostname(d);
  const c = clockParts();
  const msg =
    `\nBroadcast Message from root@${d.hostname}\n        (no tty) at ${c.time.slice(0, 5)} UTC...\n\n` +
    'Commit was not confirmed; automatic rollback complete.\n';
  for (const s of d.shells.all()) s.asyncMessage(msg);
}

/** Junos pager: "---(more)---" or "---(more NN%)---", Space / Enter / q; other keys are ignored here. */
export const JUNOS_PAGER: PagerStyle = {
  prompt: (pct) => (pct === null ? '---(more)---' : `---(more ${pct}%)---`),
  erase: (p) => `\r${' '.repeat(p.length)}\r`,
  keyAction: (k) =>
    k === ' ' ? 'page' : k === '\r' || k === '\n' ? 'line' : k === 'q' || k === 'Q' ? 'quit' : 'ignore',
};

/** Top-level configuration statements accepted by `set`, `delete` and `edit`. */
const STATEMENTS = [
  'access',
  'applications',
  'chassis',
  'class-of-service',
  'firewall',
  'groups',
  'interfaces',
  'policy-options',
  'protocols',
  'routing-instances',
  'routing-options',
  'security',
  'services',
  'snmp',
  'system',
  'vlans',
];

type JunosMode = 'shell' | 'op' | 'config';
type ConfigureKind = 'normal' | 'exclusive' | 'private';

class JunosShell extends CliShell {
  private mode: JunosMode;
  /** `start shell` / `cli` nesting: where `exit` goes back to. */
  private readonly modeStack: JunosMode[] = [];
  private editPath: string[] = [];
  private readonly editStack: string[][] = [];
  /** `configure private`: this session's own candidate. */
  private privateCandidate: JNode | null = null;
  private configureKind: ConfigureKind = 'normal';
  /** Terminal name as Junos lists it (`p0`, `p1`, ...) and a process id for lock messages. */
  readonly tty: string;
  private readonly pid: number;
  private readonly loginTime = new Date();
  private completeOnSpace = true;
  private readonly opTree: CommandTree;
  private readonly configTree: CommandTree;
  private typedPrompt = '';

  constructor(
    term: Terminal,
    session: SessionInfo,
    private readonly cfg: JunosConfig,
    private readonly device: JunosDevice,
  ) {
    super(term, session);
    term.initPaging(cfg.pagingDefaultOn, cfg.terminalLength);
    this.mode = cfg.loginShell === 'shell' ? 'shell' : 'op';
    const n = device.ttys++;
    this.tty = `p${n}`;
    this.pid = 4242 + n;
    this.opTree = this.buildOpTree();
    this.configTree = this.buildConfigTree();
  }

  protected loginBanner(): string {
    return this.cfg.banner ? `${this.cfg.banner.replace(/\n+$/, '')}\n` : '';
  }

  protected prompt(): string {
    const h = this.device.hostname;
    const u = this.session.username;
    const sp = this.cfg.trailingSpace ? ' ' : '';
    const cluster = this.cfg.clusterLine;
    if (this.mode === 'shell') {
      const style = this.cfg.rootShellPrompt;
      return style === 'modern' ? `${u}@${h}:~ # ` : style === 'legacy' ? `${u}@${h}% ` : '% ';
    }
    if (this.mode === 'op') return `\r\n${cluster ? `${cluster}\r\n` : ''}${u}@${h}>${sp}`;
    const edit = `[edit${this.editPath.length ? ` ${this.editPath.join(' ')}` : ''}]`;
    // While a commit confirmed waits, configuration mode shows the minutes left above [edit].
    const p = this.device.pending;
    const left = p ? Math.max(1, Math.ceil((p.deadline - Date.now()) / this.cfg.confirmMinuteMs)) : 0;
    const pending = p ? `# commit confirmed will be rolled back in ${left} minutes\r\n` : '';
    return `\r\n${pending}${cluster ?? ''}${edit}\r\n${u}@${h}#${sp}`;
  }

  override async run(): Promise<void> {
    try {
      await super.run();
    } finally {
      this.sessionEnded();
    }
  }

  override async runCommand(command: string): Promise<number> {
    try {
      return await super.runCommand(command);
    } finally {
      this.sessionEnded();
    }
  }

  /** A session that goes away drops its private candidate and an exclusive lock (discarding its changes). */
  private sessionEnded(): void {
    const d = this.device;
    if (d.lock?.shell === this) {
      d.shared = cloneTree(activeConfig(d));
      d.lock = null;
    }
    this.privateCandidate = null;
    d.shells.delete(this);
  }

  protected override lineOptions(): ReadLineOptions {
    if (this.mode === 'shell' || !this.completeOnSpace) return {};
    const tree = this.mode === 'op' ? this.opTree : this.configTree;
    return { completeOnSpace: (buf) => tree.completion(buf) };
  }

  // ---- dispatch ----------------------------------------------------------------------------------------

  protected async execute(line: string): Promise<void> {
    this.typedPrompt = this.prompt();
    if (this.mode === 'shell') return this.term.print(this.shell(line));
    if (this.mode === 'config') {
      // `run <operational command>` (pipes included) from configuration mode.
      const r = this.configTree.parse(splitPipes(line).command);
      const target = r.kind === 'ok' && r.match.canonical.startsWith('run ') ? r.match.tokens[1] : undefined;
      if (target) return this.runLine(this.opTree, line.slice(target.start), target.start);
    }
    return this.runLine(this.mode === 'op' ? this.opTree : this.configTree, line, 0);
  }

  private async runLine(tree: CommandTree, line: string, offset: number): Promise<void> {
    const { command, pipes } = splitPipes(line);
    const r = tree.parse(command);
    if (r.kind === 'empty') return;
    if (r.kind !== 'ok') return this.reportError(r, offset);
    let noMore = false;
    const filters: { kind: FilterKind; arg: string }[] = [];
    /** `| compare [rollback N]` / `| display set` replace what the show command prints. */
    let view: { kind: 'compare'; rollback: number | null } | { kind: 'display-set' } | null = null;
    const pipeKinds: Record<string, FilterKind | 'no-more' | 'compare' | 'display'> = {
      match: 'include',
      except: 'exclude',
      count: 'count',
      last: 'last',
      'no-more': 'no-more',
      compare: 'compare',
      display: 'display',
    };
    const candidateView = tree === this.configTree;
    const c0 = r.match.canonical;
    const isConfigShow = candidateView ? /^show\b/.test(c0) : /^show configuration\b/.test(c0);
    for (const p of pipes) {
      const [kw, ...rest] = tokenize(p.text);
      const word = kw?.text.toLowerCase() ?? '';
      const names = Object.keys(pipeKinds).filter((n) => word && n.startsWith(word));
      const kind = names.length === 1 ? pipeKinds[names[0] as string] : undefined;
      if (!kind) {
        this.caretError(offset + p.start + (kw?.start ?? 0), 'syntax error, expecting <command>.');
        return;
      }
      if (kind === 'no-more') {
        noMore = true;
        continue;
      }
      if (kind === 'compare' || kind === 'display') {
        const args = rest.map((t) => t.text.toLowerCase());
        const column = offset + p.start + (rest[0]?.start ?? p.text.trimEnd().length + 1);
        if (!isConfigShow) {
          this.caretError(offset + p.start + (kw?.start ?? 0), 'syntax error, expecting <command>.');
          return;
        }
        if (kind === 'display') {
          if (args.length !== 1 || !'set'.startsWith(args[0] ?? '-')) {
            this.caretError(column, 'syntax error, expecting <command>.');
            return;
          }
          view = { kind: 'display-set' };
          continue;
        }
        if (args.length === 0) view = { kind: 'compare', rollback: null };
        else if (args.length === 2 && 'rollback'.startsWith(args[0] ?? '-') && /^\d+$/.test(args[1] ?? '')) {
          view = { kind: 'compare', rollback: Number(args[1]) };
        } else {
          this.caretError(column, 'syntax error, expecting <command>.');
          return;
        }
        continue;
      }
      const arg = rest.length ? p.text.slice((rest[0] as { start: number }).start).trim() : '';
      if (!arg && kind !== 'count') {
        this.caretError(offset + p.start + p.text.trimEnd().length + 1, 'missing mandatory argument.');
        return;
      }
      filters.push({ kind, arg: kind === 'count' && !arg ? '' : arg });
    }
    let out = view ? this.configView(view, r.match, candidateView) : await r.handler(r.match);
    if (out === undefined) return;
    for (const f of filters) {
      out =
        f.kind === 'count'
          ? `Count: ${splitLines(applyFilter(out, 'include', f.arg)).length} lines\n`
          : applyFilter(out, f.kind, f.arg);
    }
    // Junos announces how far through the output the pager is when it knows the size (configuration).
    const c = r.match.canonical;
    const percent = c.startsWith('show configuration') || (this.mode === 'config' && c.startsWith('show'));
    if (noMore) this.term.print(out);
    else await this.term.page(out, JUNOS_PAGER, { percent });
  }

  /** What `show ... | compare` / `| display set` print (configuration mode: the candidate; else the active one). */
  private configView(
    view: { kind: 'compare'; rollback: number | null } | { kind: 'display-set' },
    m: CommandMatch,
    inConfig: boolean,
  ): string | undefined {
    const d = this.device;
    const shown = inConfig ? this.candidate() : activeConfig(d);
    if (view.kind === 'display-set') {
      const path = [...(inConfig ? this.editPath : []), ...tokenize(m.args.path ?? '').map((t) => t.text)];
      const prefix = path.length ? `set ${path.join(' ')} ` : 'set ';
      const lines = toSetLines(shown).filter((l) => l.startsWith(prefix) || l === prefix.trimEnd());
      return lines.length ? `${lines.join('\n')}\n` : '';
    }
    const n = view.rollback ?? 0;
    const base = d.commits[n];
    if (!base) return `error: Requested rollback configuration does not exist: ${n}\n`;
    return compareTrees(base.config, shown);
  }

  /** A line with a caret under the column (counted from the start of the prompt line), then the message. */
  private caretError(column: number, message: string): void {
    this.term.print(`${caretLine(lastLineLength(this.typedPrompt) + column)}\n${message}\n`);
  }

  private reportError(r: ParseResult, offset: number): void {
    switch (r.kind) {
      case 'ambiguous': {
        this.caretError(offset + r.token.start, `'${r.token.text}' is ambiguous.`);
        const rows = r.candidates.map((c) => `  ${c.keyword.padEnd(21)}${c.help}`);
        this.term.print(`Possible completions:\n${rows.join('\n')}\n`);
        return;
      }
      case 'incomplete':
        this.caretError(
          offset + r.column,
          r.expectsArgument ? 'missing mandatory argument.' : 'syntax error, expecting <command>.',
        );
        return;
      case 'invalid':
        this.caretError(
          offset + r.column,
          r.index === 0 ? 'unknown command.' : 'syntax error, expecting <command>.',
        );
        return;
      default:
        return;
    }
  }

  // ---- operational mode --------------------------------------------------------------------------------

  private buildOpTree(): CommandTree {
    const t = new CommandTree();
    const cfg = this.cfg;
    const quit = () => {
      const back = this.modeStack.pop();
      if (back) this.mode = back;
      else this.logout();
      return undefined;
    };
    t.add('exit', quit, 'Exit the management session');
    t.add('quit', quit, 'Exit the management session');
    t.add(
      'show version',
      () => junosVersion(this.device.hostname, cfg.model, cfg.clusterLine),
      'Show system information',
    );
    t.add('show configuration', () => this.activeText());
    t.add('show configuration <path...>', (m) => configSection(this.activeText(), m.args.path ?? ''));
    t.add('show system commit', () => this.showSystemCommit());
    t.add('show interfaces terse', () => interfacesTerse());
    t.add('show interfaces descriptions', async () => {
      await printPausingAtPromptLikeLines(this.term, DESCRIPTIONS, cfg.falsePromptPauseMs);
      return undefined;
    });
    t.add('show interfaces <name>', (m) =>
      /^(ge-0\/0\/([0-9]|1[0-5])|lo0|fxp0)$/.test(m.args.name ?? '')
        ? `Physical interface: ${m.args.name}, Enabled, Physical link is Up\n  Interface index: 148, SNMP ifIndex: 526\n`
        : `error: device ${m.args.name} not found\n`,
    );
    t.add('show system uptime', () => systemUptime());
    t.add('show cli', () => this.showCli());
    t.add(
      'set cli screen-length <lines:number>',
      (m) => {
        this.term.screenLength = Number(m.args.lines);
        return `Screen length set to ${m.args.lines}\n`;
      },
      'Set CLI properties, date/time, craft interface message',
    );
    t.add('set cli screen-width <cols:number>', (m) => {
      this.term.screenWidth = Number(m.args.cols);
      return `Screen width set to ${m.args.cols}\n`;
    });
    t.add('set cli complete-on-space on', () => {
      this.completeOnSpace = true;
      return 'Enabling complete-on-space\n';
    });
    t.add('set cli complete-on-space off', () => {
      this.completeOnSpace = false;
      return 'Disabling complete-on-space\n';
    });
    t.add('configure', () => this.enterConfig('normal'), 'Manipulate software configuration information');
    t.add('configure exclusive', () => this.enterConfig('exclusive'));
    t.add('configure private', () => this.enterConfig('private'));
    t.add(
      'start shell',
      () => {
        this.modeStack.push('op');
        this.mode = 'shell';
        return undefined;
      },
      'Start shell',
    );
    t.add('ping <host...>', (m) => junosPing(m.args.host ?? ''), 'Ping remote target');
    t.add(
      'ssh <host...>',
      () => 'ssh: connect to host: Connection refused\n',
      'Start secure shell on another host',
    );
    return t;
  }

  private showCli(): string {
    return (
      `CLI complete-on-space set to ${this.completeOnSpace ? 'on' : 'off'}\n` +
      'CLI idle-timeout disabled\n' +
      'CLI restart-on-upgrade set to on\n' +
      `CLI screen-length set to ${this.term.screenLength}\n` +
      `CLI screen-width set to ${this.term.screenWidth}\n` +
      `CLI terminal is '${this.term.termType}'\n` +
      'CLI is operating in enhanced mode\n' +
      'CLI timestamp disabled\n' +
      `CLI working directory is '/var/home/${this.session.username}'\n`
    );
  }

  private enterConfig(kind: ConfigureKind): string {
    const d = this.device;
    const active = activeConfig(d);
    if (kind !== 'normal' && d.lock && d.lock.shell !== this) return this.lockedMessage();
    const sharedModified = !treesEqual(d.shared, active);
    if (kind === 'private' && sharedModified) {
      return `error: shared configuration database modified\n${this.editorsText()}`;
    }
    const others = this.editorsText();
    // Uncommitted shared changes block `configure exclusive` while their editors are still in configuration mode.
    if (kind === 'exclusive' && sharedModified && others)
      return `error: configuration database modified\n${others}`;
    this.mode = 'config';
    this.configureKind = kind;
    this.editPath = [];
    this.editStack.length = 0;
    this.privateCandidate = kind === 'private' ? cloneTree(active) : null;
    if (kind === 'exclusive') d.lock = { shell: this, since: new Date() };
    const warn = kind === 'normal' ? '' : 'warning: uncommitted changes will be discarded on exit\n';
    const notes = `${kind === 'normal' ? others : ''}${sharedModified && kind !== 'private' ? 'The configuration has been changed but not committed\n' : ''}`;
    return `${warn}Entering configuration mode\n${notes}`;
  }

  /** "Users currently editing the configuration:" and one entry per other session in configuration mode. */
  private editorsText(): string {
    const others = this.device.shells.all().filter((s) => s !== this && s.mode === 'config');
    if (others.length === 0) return '';
    const rows = others.map(
      (s) =>
        `  ${s.session.username} terminal ${s.tty} (pid ${s.pid}) on since ${isoUtc(s.loginTime)}\n` +
        `      ${s.configureKind === 'normal' ? '' : `${s.configureKind} `}[edit${s.editPath.length ? ` ${s.editPath.join(' ')}` : ''}]`,
    );
    return `Users currently editing the configuration:\n${rows.join('\n')}\n`;
  }

  private lockedMessage(): string {
    const l = this.device.lock;
    if (!l) return '';
    return (
      'error: configuration database locked by:\n' +
      `  ${l.shell.session.username} terminal ${l.shell.tty} (pid ${l.shell.pid}) on since ${isoUtc(l.since)}\n` +
      '      exclusive [edit]\n'
    );
  }

  /** Another session holds `configure exclusive`: changes and commits are refused. */
  private lockedByOther(): boolean {
    const l = this.device.lock;
    return l !== null && l.shell !== this;
  }

  /** The candidate this session edits: its private copy, or the shared candidate. */
  private candidate(): JNode {
    return this.privateCandidate ?? this.device.shared;
  }

  private setCandidate(tree: JNode): void {
    if (this.privateCandidate) this.privateCandidate = tree;
    else this.device.shared = tree;
  }

  private hasChanges(): boolean {
    return !treesEqual(this.candidate(), activeConfig(this.device));
  }

  /** `show configuration`: "## Last commit" line, then the active configuration. */
  private activeText(): string {
    const last = this.device.commits[0] as JunosCommit;
    const head = `## Last commit: ${isoUtc(last.time)} by ${last.user}`;
    return `${[head, ...renderJunos(activeConfig(this.device))].join('\n')}\n`;
  }

  /** `show system commit`: rollback number, date, user, client, confirmed-commit note, comment. */
  private showSystemCommit(): string {
    const d = this.device;
    const rows: string[] = [];
    d.commits.forEach((c, i) => {
      const note = c.confirmedMinutes ? ` commit confirmed, rollback in ${c.confirmedMinutes}mins` : '';
      rows.push(`${String(i).padEnd(4)}${isoUtc(c.time)} by ${c.user} via ${c.via}${note}`);
      if (c.comment) rows.push(`    ${c.comment}`);
      if (i === 0 && d.pending) rows.push('    rollback pending');
    });
    return `${rows.join('\n')}\n`;
  }

  // ---- configuration mode ------------------------------------------------------------------------------

  private buildConfigTree(): CommandTree {
    const t = new CommandTree();
    t.add(
      'set',
      (m) => {
        this.caretError(m.line.trimEnd().length + 1, 'missing mandatory argument.');
        return undefined;
      },
      'Set a parameter',
    );
    t.add('set <path...>', (m) => this.changeStatement('set', m));
    t.add('delete <path...>', (m) => this.changeStatement('delete', m), 'Delete a data element');
    t.add(
      'edit <path...>',
      (m) => {
        const path = this.statementPath(m);
        if (!path) return undefined;
        this.editStack.push(this.editPath);
        this.editPath = path;
        return undefined;
      },
      'Edit a sub-element',
    );
    t.add(
      'up',
      () => {
        this.editPath = this.editPath.slice(0, -1);
        return undefined;
      },
      'Exit one level of configuration hierarchy',
    );
    t.add(
      'top',
      () => {
        this.editPath = [];
        return undefined;
      },
      'Exit to top level of configuration',
    );
    // `exit` returns to the level before the last `edit`; at the top level it leaves configuration mode.
    const exit = async () => {
      if (this.editPath.length === 0) return this.leaveConfig();
      this.editPath = this.editStack.pop() ?? [];
      return undefined;
    };
    t.add('exit', exit, 'Exit from this level');
    t.add('quit', exit, 'Quit from this level');
    t.add('exit configuration-mode', () => this.leaveConfig());
    t.add('quit configuration-mode', () => this.leaveConfig());
    t.add('commit', () => this.commit({}), 'Commit current set of changes');
    t.add('commit check', () => this.commit({ check: true }));
    t.add('commit comment <text...>', (m) => this.commit({ comment: unquote(m.args.text ?? '') }));
    t.add('commit confirmed', () => this.commit({ confirmed: 10 }));
    t.add('commit confirmed <minutes:number>', (m) => this.commit({ confirmed: Number(m.args.minutes) }));
    t.add('commit confirmed <minutes:number> comment <text...>', (m) =>
      this.commit({ confirmed: Number(m.args.minutes), comment: unquote(m.args.text ?? '') }),
    );
    t.add('commit and-quit', () => {
      const out = this.commit({});
      if (!out.includes('commit complete')) return out;
      this.leaveAfterCommit();
      return `${out}Exiting configuration mode\n`;
    });
    t.add('rollback', () => this.rollback(0), 'Roll back to previous committed configuration');
    t.add('rollback <n:number>', (m) => this.rollback(Number(m.args.n)));
    t.add('load set terminal', () => this.loadSetTerminal(), 'Load configuration from ASCII file');
    t.add('show', () => this.showCandidate(), 'Show a parameter');
    t.add('show <path...>', (m) => configSection(this.showCandidate(), m.args.path ?? ''));
    t.add('run <command...>', () => undefined, 'Run an operational-mode command'); // dispatched in execute()
    t.add(
      'status',
      () => {
        const rows = this.device.shells
          .all()
          .filter((s) => s.mode === 'config')
          .map(
            (s) =>
              `  ${s.session.username} terminal ${s.tty} (pid ${s.pid}) on since ${isoUtc(s.loginTime)}\n` +
              `      ${s.configureKind === 'normal' ? '' : `${s.configureKind} `}[edit${s.editPath.length ? ` ${s.editPath.join(' ')}` : ''}]`,
          );
        return `Users currently editing the configuration:\n${rows.join('\n')}\n`;
      },
      'Show users currently editing configuration',
    );
    return t;
  }

  /**
   * The statement path of `set` / `delete` / `edit` (edit level + typed words) with the top-level word
   * expanded from a unique prefix; errors are reported (caret) and give null.
   */
  private statementPath(m: CommandMatch): string[] | null {
    const words = m.tokens.slice(1);
    if (this.editPath.length > 0) return [...this.editPath, ...words.map((w) => w.text)];
    const first = words[0];
    if (!first) return null;
    const r = topStatement(first.text);
    if (r.kind === 'invalid') {
      this.caretError(first.start, 'syntax error.');
      return null;
    }
    if (r.kind === 'ambiguous') {
      this.caretError(first.start, `'${first.text}' is ambiguous.`);
      const rows = r.candidates.map((c) => `  ${c.padEnd(21)}${STATEMENT_HELP[c] ?? ''}`);
      this.term.print(`Possible completions:\n${rows.join('\n')}\n`);
      return null;
    }
    return [r.word, ...words.slice(1).map((w) => w.text)];
  }

  /** `set` / `delete` on the candidate. */
  private changeStatement(verb: 'set' | 'delete', m: CommandMatch): string | undefined {
    const path = this.statementPath(m);
    if (!path) return undefined;
    if (this.lockedByOther()) return this.lockedMessage();
    const last = path[path.length - 1] ?? '';
    if (verb === 'set' && VALUE_REQUIRED.has(last)) {
      this.caretError(m.line.trimEnd().length + 1, 'missing argument.');
      return undefined;
    }
    if (verb === 'set') {
      applySet(this.candidate(), path.join(' '));
      return undefined;
    }
    return applyDelete(this.candidate(), path.join(' ')) ? undefined : 'warning: statement not found\n';
  }

  /**
   * `load set terminal`: lines until Ctrl+D at the start of a line, each applied like an interactive `set` /
   * `delete` at the current level. A bad line is reported as `terminal:LINE:(COLUMN) syntax error: WORD`
   * and skipped; the other lines stay loaded and the load reports "load complete" (as a device does).
   */
  private async loadSetTerminal(): Promise<string | undefined> {
    if (this.lockedByOther()) return this.lockedMessage();
    this.term.print('[Type ^D at a new line to end input]\n');
    const lines: string[] = [];
    for (;;) {
      const r = await this.term.readLine({ eofOnCtrlD: true });
      if (r.kind === 'closed') {
        if (!this.term.interactive && lines.length) break; // exec channel: EOF ends the input
        return undefined;
      }
      if (r.kind === 'interrupt') return undefined; // ^C abandons the load, nothing is changed
      if (r.kind === 'eof') {
        if (r.text.trim()) lines.push(r.text);
        break;
      }
      lines.push(r.text);
      if (lines.length >= MAX_LOAD_LINES) break;
    }
    const tree = cloneTree(this.candidate());
    const errors: string[] = [];
    for (const [i, line] of lines.entries()) {
      const tokens = tokenize(line);
      const verb = tokens[0];
      if (!verb) continue;
      const where = (tok: { text: string; start: number }) => {
        errors.push(`terminal:${i + 1}:(${tok.start}) syntax error: ${tok.text}`);
      };
      if (verb.text !== 'set' && verb.text !== 'delete') {
        where(verb);
        continue;
      }
      const words = tokens.slice(1);
      const first = words[0];
      if (!first) {
        where(verb);
        continue;
      }
      let path: string[];
      if (this.editPath.length > 0) path = [...this.editPath, ...words.map((w) => w.text)];
      else {
        const top = topStatement(first.text);
        if (top.kind !== 'ok') {
          where(first);
          continue;
        }
        path = [top.word, ...words.slice(1).map((w) => w.text)];
      }
      if (verb.text === 'set') applySet(tree, path.join(' '));
      else if (!applyDelete(tree, path.join(' '))) errors.push('warning: statement not found');
    }
    this.setCandidate(tree);
    return `${errors.map((e) => `${e}\n`).join('')}load complete\n`;
  }

  /**
   * commit / commit check / commit comment / commit confirmed [N]: a later `commit` or `commit check`
   * confirms a pending `commit confirmed`; an unconfirmed one is rolled back by the device after N minutes.
   */
  private commit(o: { check?: boolean; comment?: string; confirmed?: number }): string {
    const d = this.device;
    if (this.lockedByOther()) return this.lockedMessage();
    const p = d.pending;
    if (o.check) {
      if (p) this.clearPending();
      return 'configuration check succeeds\n';
    }
    if (o.confirmed !== undefined && (o.confirmed < 1 || o.confirmed > 65535)) {
      return 'error: confirmed-timeout must be between 1 and 65535\n';
    }
    const before = activeConfig(d);
    const snapshot = cloneTree(this.candidate());
    d.commits.unshift({
      time: new Date(),
      user: this.session.username,
      via: 'cli',
      ...(o.comment === undefined ? {} : { comment: o.comment }),
      ...(o.confirmed === undefined ? {} : { confirmedMinutes: o.confirmed }),
      config: snapshot,
    });
    if (d.commits.length > MAX_ROLLBACKS) d.commits.length = MAX_ROLLBACKS;
    if (this.privateCandidate) {
      this.privateCandidate = cloneTree(snapshot);
      if (treesEqual(d.shared, before)) d.shared = cloneTree(snapshot);
    }
    syncHostname(d);
    let out = 'commit complete\n';
    if (o.confirmed !== undefined) {
      // A second commit confirmed restarts the clock; the rollback still goes back to the last confirmed config.
      const revertTo = p ? p.revertTo : before;
      if (p) d.timers.cancel(p.timer);
      const ms = scaledMinutes(o.confirmed, this.cfg.confirmMinuteMs);
      d.pending = {
        deadline: Date.now() + ms,
        minutes: o.confirmed,
        user: this.session.username,
        revertTo,
        timer: d.timers.after(ms, () => autoRollback(d)),
      };
      out = `commit confirmed will be automatically rolled back in ${o.confirmed} minutes unless confirmed\n${out}`;
    } else if (p) this.clearPending();
    if (this.cfg.clusterLine) {
      return `node0:\nconfiguration check succeeds\nnode1:\n${out}node0:\n${out}`;
    }
    return out;
  }

  private clearPending(): void {
    const d = this.device;
    if (!d.pending) return;
    d.timers.cancel(d.pending.timer);
    d.pending = null;
  }

  /** `rollback N`: load committed configuration N into the candidate (0 = discard changes). */
  private rollback(n: number): string {
    if (this.lockedByOther()) return this.lockedMessage();
    const c = this.device.commits[n];
    if (!c) return `error: Requested rollback configuration does not exist: ${n}\n`;
    this.setCandidate(cloneTree(c.config));
    return 'load complete\n';
  }

  private showCandidate(): string {
    const body = renderJunos(this.candidate()).join('\n');
    if (this.editPath.length === 0) return `${body}\n`;
    return configSection(`${body}\n`, this.editPath.join(' '));
  }

  /** Back to operational mode after `commit and-quit` / leaving: private and exclusive state is released. */
  private leaveAfterCommit(): void {
    const d = this.device;
    if (d.lock?.shell === this) d.lock = null;
    this.privateCandidate = null;
    this.mode = 'op';
    this.configureKind = 'normal';
    this.editPath = [];
    this.editStack.length = 0;
  }

  /** Leaving configuration mode asks first when there are uncommitted changes. */
  private async leaveConfig(): Promise<string | undefined> {
    if (this.hasChanges()) {
      this.term.print('The configuration has been changed but not committed\n');
      const discard = this.configureKind !== 'normal';
      if (this.configureKind === 'exclusive') {
        this.term.print("warning: Auto rollback on exiting 'configure exclusive'\n");
      }
      const question = discard
        ? 'Discard uncommitted changes? [yes,no] (yes) '
        : 'Exit with uncommitted changes? [yes,no] (yes) ';
      for (;;) {
        this.term.writeRaw(question);
        const r = await this.term.readLine();
        if (r.kind !== 'line') return undefined;
        const a = r.text.trim().toLowerCase();
        if (a === '' || 'yes'.startsWith(a)) break;
        if ('no'.startsWith(a)) return undefined;
      }
      if (discard) {
        // Exclusive: the shared candidate goes back to the active configuration; private: the copy is dropped.
        if (this.configureKind === 'exclusive') this.device.shared = cloneTree(activeConfig(this.device));
        this.term.print('warning: discarding uncommitted changes\nload complete\n');
      }
    }
    this.leaveAfterCommit();
    return 'Exiting configuration mode\n';
  }

  // ---- root shell --------------------------------------------------------------------------------------

  /** The FreeBSD shell root logs into; `cli` starts the Junos CLI, `exit` leaves. */
  private shell(line: string): string {
    const [cmd, ...rest] = line.trim().split(/\s+/);
    switch (cmd) {
      case undefined:
      case '':
        return '';
      case 'cli':
        this.modeStack.push('shell');
        this.mode = 'op';
        return '';
      case 'exit':
      case 'logout': {
        const back = this.modeStack.pop();
        if (back) this.mode = back;
        else this.logout();
        return '';
      }
      case 'whoami':
        return `${this.session.username}\n`;
      case 'hostname':
        return `${this.device.hostname}\n`;
      case 'pwd':
        return this.session.username === 'root' ? '/root\n' : `/var/home/${this.session.username}\n`;
      case 'uname':
        return rest.includes('-a')
          ? `FreeBSD ${this.device.hostname} JNPR-12.1-20230120.0a3ef1d_buil FreeBSD JNPR-12.1-20230120.0a3ef1d_buil #0 r368029+0a3ef1d2d7f(stable/12): Fri Jan 20 00:54:44 UTC 2023     builder@bldvm:/obj/amd64/juniper/kernels/JNPR-AMD64-PRD/kernel  amd64\n`
          : 'FreeBSD\n';
      case 'echo':
        return `${rest.join(' ').replace(/^["']|["']$/g, '')}\n`;
      default:
        return `${cmd}: Command not found.\n`;
    }
  }
}

/** Short help shown by "Possible completions" for top-level statements. */
const STATEMENT_HELP: Record<string, string> = {
  security: 'Security configuration',
  services: 'System services',
  snmp: 'Simple Network Management Protocol configuration',
  system: 'System parameters',
};

/** Statements that need a value: `set system host-name` alone is "missing argument.". */
const VALUE_REQUIRED = new Set(['host-name', 'domain-name', 'description', 'address', 'mtu', 'time-zone']);

/** A top-level statement from what was typed: exact, unique prefix, ambiguous or unknown. */
function topStatement(
  typed: string,
): { kind: 'ok'; word: string } | { kind: 'ambiguous'; candidates: string[] } | { kind: 'invalid' } {
  const low = typed.toLowerCase();
  if (STATEMENTS.includes(low) || low === 'version') return { kind: 'ok', word: low };
  const hits = STATEMENTS.filter((s) => s.startsWith(low));
  if (hits.length === 1) return { kind: 'ok', word: hits[0] as string };
  if (hits.length > 1) return { kind: 'ambiguous', candidates: hits };
  return { kind: 'invalid' };
}

function unquote(text: string): string {
  const t = text.trim();
  return t.startsWith('"') ? t.replace(/^"|"$/g, '') : t;
}

// ---- canned output -------------------------------------------------------------------------------------

function junosPing(host: string): string {
  return (
    `PING ${host} (${host}): 56 data bytes\n` +
    `64 bytes from ${host}: icmp_seq=0 ttl=64 time=0.311 ms\n` +
    `64 bytes from ${host}: icmp_seq=1 ttl=64 time=0.287 ms\n\n` +
    `--- ${host} ping statistics ---\n` +
    '2 packets transmitted, 2 packets received, 0% packet loss\n' +
    'round-trip min/avg/max/stddev = 0.287/0.299/0.311/0.012 ms\n'
  );
}

export function junosVersion(hostname: string, model: string, cluster: string | null): string {
  const b1 = '20230120.0a3ef1d_builder_stable_12_214';
  const b2 = '20230209.145310_builder_junos_214_r3_s1';
  const pkgs = [
    `JUNOS OS Kernel 64-bit  [${b1}]`,
    `JUNOS OS libs [${b1}]`,
    `JUNOS OS runtime [${b1}]`,
    `JUNOS OS time zone information [${b1}]`,
    `JUNOS OS libs compat32 [${b1}]`,
    `JUNOS OS 32-bit compatibility [${b1}]`,
    `JUNOS py extensions [${b2}]`,
    `JUNOS py base [${b2}]`,
    `JUNOS OS vmguest [${b1}]`,
    `JUNOS OS crypto [${b1}]`,
    `JUNOS OS boot-ve files [${b1}]`,
    `JUNOS network stack and utilities [${b2}]`,
    `JUNOS libs [${b2}]`,
    `JUNOS libs compat32 [${b2}]`,
    `JUNOS runtime [${b2}]`,
    `JUNOS srx libs compat32 [${b2}]`,
    `JUNOS srx runtime [${b2}]`,
    `JUNOS common platform support [${b2}]`,
    `JUNOS srx platform support [${b2}]`,
    `JUNOS mtx network modules [${b2}]`,
    `JUNOS modules [${b2}]`,
    `JUNOS srx libs [${b2}]`,
    `JUNOS srx Data Plane Crypto Support [${b2}]`,
    `JUNOS daemons [${b2}]`,
    `JUNOS srx daemons [${b2}]`,
    `JUNOS Online Documentation [${b2}]`,
    `JUNOS jail runtime [${b1}]`,
  ];
  const body = `Hostname: ${hostname}\nModel: ${model}\nJunos: ${JUNOS_RELEASE}\n${pkgs.join('\n')}\n`;
  return cluster ? `node0:\n${'-'.repeat(74)}\n${body}` : body;
}

/**
 * `show configuration` with exactly `lines` lines (at least the fixed skeleton): "## Last commit", system,
 * one 8-line block per interface, routing-options; name-server entries pad to the exact count.
 */
export function junosConfiguration(hostname: string, lines: number): string {
  const head = [
    '## Last commit: 2024-06-04 10:15:30 UTC by admin',
    `version ${JUNOS_RELEASE};`,
    'system {',
    `    host-name ${hostname};`,
    '    root-authentication {',
    `        encrypted-password "$6$${fakeHex(31, 8)}$${fakeHex(32, 86)}"; ## SECRET-DATA`,
    '    }',
    '    login {',
    '        user admin {',
    '            uid 2000;',
    '            class super-user;',
    '            authentication {',
    `                encrypted-password "$6$${fakeHex(33, 8)}$${fakeHex(34, 86)}"; ## SECRET-DATA`,
    '            }',
    '        }',
    '    }',
    '    services {',
    '        ssh;',
    '        netconf {',
    '            ssh;',
    '        }',
    '    }',
    '    name-server {',
  ];
  const middle = ['    }', '}', 'interfaces {'];
  const tail = [
    '}',
    'routing-options {',
    '    static {',
    '        route 0.0.0.0/0 next-hop 10.0.0.254;',
    '    }',
    '}',
  ];
  const room = Math.max(1, lines - head.length - middle.length - tail.length);
  const blocks = Math.floor((room - 1) / 8); // at least one name-server
  const servers = room - blocks * 8;
  const out = [...head];
  for (let i = 0; i < servers; i++) out.push(`        10.53.${Math.floor(i / 250)}.${(i % 250) + 1};`);
  out.push(...middle);
  for (let i = 0; i < blocks; i++) {
    out.push(
      `    ge-0/0/${i} {`,
      `        description "port ${i}";`,
      '        unit 0 {',
      '            family inet {',
      `                address 10.${Math.floor(i / 250) + 1}.${i % 250}.1/24;`,
      '            }',
      '        }',
      '    }',
    );
  }
  out.push(...tail);
  return `${out.join('\n')}\n`;
}

/** The contents of one top-level statement ("interfaces", "system login"), dedented like Junos shows it. */
function configSection(config: string, path: string): string {
  const lines = splitLines(config);
  let from = 0;
  let to = lines.length;
  let depth = 0;
  for (const word of path.split(/\s+/).filter(Boolean)) {
    const indent = ' '.repeat(depth * 4);
    const start = lines.findIndex((l, i) => i >= from && i < to && l === `${indent}${word} {`);
    if (start < 0) return '';
    const end = lines.findIndex((l, i) => i > start && l === `${indent}}`);
    from = start + 1;
    to = end < 0 ? lines.length : end;
    depth++;
  }
  const pad = depth * 4;
  return `${lines
    .slice(from, to)
    .map((l) => l.slice(pad))
    .join('\n')}\n`;
}

function interfacesTerse(): string {
  const rows = ['Interface               Admin Link Proto    Local                 Remote'];
  for (let i = 0; i < 16; i++) {
    const up = i % 4 !== 3;
    rows.push(`ge-0/0/${String(i).padEnd(16)}up    ${up ? 'up  ' : 'down'}`);
    rows.push(`ge-0/0/${`${i}.0`.padEnd(16)}up    ${up ? 'up  ' : 'down'} inet     10.1.${i}.1/24`);
  }
  rows.push(
    'dsc                     up    up',
    'fxp0                    up    up',
    'fxp0.0                  up    up   inet     192.168.0.20/24',
    'lo0                     up    up',
    'lo0.0                   up    up   inet     10.255.0.3          --> 0/0',
  );
  return `${rows.join('\n')}\n`;
}

const DESCRIPTIONS = `Interface       Admin Link Description
ge-0/0/0        up    up   uplink to core1#
ge-0/0/1        up    up   peer admin@lab-fw2>
ge-0/0/2        up    down spare
`;

function systemUptime(): string {
  const c = clockParts();
  const pad = (n: number) => String(n).padStart(2, '0');
  const now = new Date();
  const date = `${now.getUTCFullYear()}-${pad(now.getUTCMonth() + 1)}-${pad(now.getUTCDate())}`;
  return (
    `Current time: ${date} ${c.time} UTC\n` +
    'Time Source:  LOCAL CLOCK \n' +
    'System booted: 2024-05-13 06:03:00 UTC (3w1d 04:12 ago)\n' +
    'Protocols started: 2024-05-13 06:05:12 UTC (3w1d 04:10 ago)\n' +
    'Last configured: 2024-06-04 10:15:30 UTC by admin\n' +
    `${c.time.slice(0, 5)}  up 22 days,  4:12, 1 user, load averages: 0.08, 0.05, 0.01\n`
  );
}
