import path from 'node:path';
import type { AuditRecord, AuditSink, ChangeAudit } from '../audit/audit-log.js';
import type { Dialect } from '../dialect/dialect.js';
import type { DialectRegistry } from '../dialect/loader.js';
import { OutputStore, removeSpillFolders } from '../expect/output-store.js';
import type { TypedInput } from '../policy/input.js';
import { hostAddresses } from '../ssh/addresses.js';
import {
  connect,
  type HostEntry,
  type ResolvedTarget,
  resolveTarget,
  type SshPaths,
  type TargetRequest,
} from '../ssh/index.js';
import { TranscriptRecorder, transcriptFiles } from '../transcript/recorder.js';
import { log } from '../util/log.js';
import { registerSecret, SECRET_KINDS, type SecretName } from '../util/secrets.js';
import type { CommandRecord } from './command.js';
import { ConfigChange, configSessionOf, maskConfigSecrets } from './config-change.js';
import { ConnectPacer } from './pacing.js';
import { CommandRegistry, type RetentionLimits } from './registry.js';
import { type AskSecret, type ConfiguredSecret, lookupSecret, type SecretConfig } from './secrets.js';
import {
  type CloseReport,
  type ExecuteOptions,
  type HostConfig,
  Session,
  type ShellObserver,
} from './session.js';

/** A command the host's policy refuses; it was never sent. */
export class CommandDeniedError extends Error {
  constructor(
    message: string,
    readonly rule: string,
  ) {
    super(message);
  }
}

/**
 * What a deployment (a config file) adds to a bare ~/.ssh/config setup. The session layer only sees this
 * shape; the config layer implements it.
 */
export interface Deployment extends SecretConfig {
  /** Inventory entries by name, for the ssh layer (target and jump hosts). */
  lookup(name: string): HostEntry | undefined;
  /** Filled in where neither the inventory entry nor ~/.ssh/config says anything. */
  defaults?: HostEntry;
  /** Only inventory hosts may be reached. */
  inventoryOnly: boolean;
  /** Secrets may come as tool parameters (false: only from the config file or the user). */
  allowToolSecrets: boolean;
  knows(name: string): boolean;
  /** Every inventory name. */
  names(): string[];
  /** The dialect the inventory names for this host (undefined: a host outside it, defaults only). */
  dialectFor(name: string | undefined): string | undefined;
  /** The folder this host's sessions are recorded in (`record:`), if any. */
  recordFolder(name: string | undefined): string | undefined;
  /**
   * A secret configured for this host: its value, or `missing` saying which reference is not set
   * (e.g. `env:CORE_PASS is not set`); undefined when none is configured.
   */
  secretFor(name: string | undefined, secret: SecretName): Promise<ConfiguredSecret>;
  /** Whether the config names this secret for the host, without reading it. */
  configures(name: string | undefined, secret: SecretName): boolean;
  /**
   * Checked against the policy of every name given (none: the defaults'). Throws CommandDeniedError.
   * `mode`: the mode the session is in (a device's shell mode reads the line as a shell command line).
   */
  checkCommand(names: string[], command: string, dialect: Dialect, mode?: string): 'allowed' | 'not-checked';
  /** Whether any command policy applies to the host these names describe (none: the defaults'). */
  checksCommands(names: string[]): boolean;
  /**
   * Text typed into a running command (send_input, send_keys), checked like checkCommand: throws
   * CommandDeniedError when it may not be typed (nothing is sent then). `pending` is what is typed on the
   * current line without Enter yet: pass it back as `input.pending` next time for the same command.
   */
  checkInput(
    names: string[],
    input: TypedInput,
    dialect: Dialect,
    mode?: string,
  ): { policy: 'allowed' | 'not-checked'; pending: string };
  audit?: AuditSink;
  /**
   * Why the caller may not reach the host these inventory names describe (none: a host outside the
   * inventory), or undefined when they may. Absent: every host may be reached.
   */
  reachable?(names: string[]): string | undefined;
}

export interface SessionManagerOptions {
  dialects: DialectRegistry;
  /** Bounds TCP connect, handshake and authentication together, across jump hosts. */
  connectTimeoutMs: number;
  sshPaths?: SshPaths;
  defaultDialect?: string;
  deployment?: Deployment;
  /** Output kept per command: head and tail in memory, the middle in a temporary file up to spillBytes. */
  output: { memoryBytes: number; spillBytes: number };
  /** What the whole server keeps of finished outputs, and for how long. */
  retention?: RetentionLimits;
  /**
   * Who watches a host's shells (the `record` and `dialect try` commands); undefined for a host: the
   * config's `record:` folder, if any, gets a transcript.
   */
  observe?: (host: string) => (() => ShellObserver) | undefined;
  /**
   * Connections opened at once, all hosts together (a fan-out must not storm one jump host); one dropped
   * before the handshake (OpenSSH MaxStartups) is tried again after a backoff. Default 10.
   */
  maxConnecting?: number;
  /** Shared by several managers (one per user of an HTTP server): their connections paced together. */
  pacer?: ConnectPacer;
  /** A session with nothing running that was not used for this long is closed; 0 or undefined: never. */
  idleTimeoutMs?: number;
}

/** How often idle sessions are looked for, at most (and at least every second). */
const REAP_INTERVAL_MS = 60_000;

export interface RunRequest {
  /** How long the caller waits; the command keeps running after it (background continuation). */
  timeoutMs: number;
  /** Aborting interrupts the command (the user cancelled). */
  signal?: AbortSignal;
  /** Aborting ends the wait only: the command goes on in the background (the client gave up waiting). */
  stopWaiting?: AbortSignal;
  /** Dialect for a new session; an open session keeps the one it was opened with. */
  dialect?: string;
  /** Secrets given with the call (enable, sudo); they decide the mode and prompts the call needs. */
  secrets?: Partial<Record<'enable' | 'sudo', string>>;
  /** Run through the dialect's sudo overlay even without a sudo password in the call. */
  sudo?: boolean;
  /** Template values, e.g. enable_command. */
  vars?: Record<string, string | undefined>;
  /** Run in the dialect's privileged mode (enable). */
  privileged?: boolean;
  /** Enable the device if it lacks the rights (user mode); a configuration mode is left alone. */
  enable?: boolean;
  /** Give the command a terminal of its own (full-screen programs). */
  terminal?: boolean;
  /** Called once the command has been sent (progress reporting hooks in here). */
  onStart?: (record: CommandRecord) => void;
  /** Asks the user for a secret nobody configured or passed, or says why that is not possible. */
  askSecret?: AskSecret;
}

export interface SessionInfo {
  id: string;
  host: string;
  port: number;
  username: string;
  dialect: string;
  mode?: string;
  connected: boolean;
  busy: boolean;
  commandCount: number;
  createdAt: string;
  lastUsedAt: string;
}

/** A configuration operation's call: who it is for, and how long each device step may take. */
export interface ConfigRunRequest extends Pick<RunRequest, 'askSecret' | 'dialect' | 'secrets' | 'vars'> {
  stepTimeoutMs: number;
}

/** What a configuration operation did, as its caller describes it for the audit log. */
export type ChangeSummary = Omit<ChangeAudit, 'operation'>;

/** A configuration line with what its dialect marks as a secret masked. */
function maskedLine(dialect: Dialect | undefined, line: string): string {
  return dialect?.configSession ? maskConfigSecrets(line, dialect.configSession) : line;
}

/** A signal that aborts when any of the given ones does. */
function anyOf(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const given = signals.filter((s): s is AbortSignal => s !== undefined);
  return given.length <= 1 ? given[0] : AbortSignal.any(given);
}

/** All sessions of this server, keyed by user@host:port, and every command they ran. */
export class SessionManager {
  /** The open sessions by id; the secrets typed for each are on it. */
  private readonly sessions = new Map<string, Session>();
  /**
   * The requests already resolved to an open session (by request key), and which config entries each
   * reached it by. Resolving reads ~/.ssh/config and its includes, which costs more than running `echo hi`
   * on a warm session, so a repeated request skips it; one lookup per call, not one per open session. A
   * session's entries go when it closes (close() is the one way out of `sessions`).
   */
  private readonly resolved = new Map<string, { session: Session; config: HostConfig }>();

  /** Every command, and what is kept of its output. */
  readonly commands: CommandRegistry;
  /** Inventory hosts by the address and port they resolve to. */
  private index: Promise<{ name: string; port: number; addresses: string[] }[]> | undefined;
  private commandSeq = 0;
  private changeSeq = 0;
  /** The checkpoint the last configuration change on each session saved: what rollback returns to. */
  private readonly checkpoints = new Map<string, string>();
  /** How many times close_all_sessions ran: a call still resolving its host when it came is closed too. */
  private closeAllCount = 0;

  /** Paces the opening of connections, server-wide. */
  private readonly pacer: ConnectPacer;
  private readonly reaper: NodeJS.Timeout | undefined;

  constructor(private readonly options: SessionManagerOptions) {
    this.commands = new CommandRegistry(options.retention);
    this.pacer = options.pacer ?? new ConnectPacer({ maxConnecting: options.maxConnecting ?? 10 });
    const idle = options.idleTimeoutMs ?? 0;
    if (idle > 0) {
      this.reaper = setInterval(
        () => this.reapIdle(idle),
        Math.max(1000, Math.min(REAP_INTERVAL_MS, idle / 2)),
      );
      this.reaper.unref();
    }
  }

  /** Close the sessions that ran nothing for `idleMs`: a fleet's sessions do not stay open for ever. */
  private reapIdle(idleMs: number): void {
    const now = Date.now();
    for (const session of this.sessions.values()) {
      if (session.inUse || session.current || now - session.lastUsedAt.getTime() < idleMs) continue;
      log.info(
        `closing ${session.id}: unused for ${Math.round((now - session.lastUsedAt.getTime()) / 1000)} s (idle_timeout)`,
      );
      void this.close(session);
    }
  }

  get deployment(): Deployment | undefined {
    return this.options.deployment;
  }

  /** Start a command and wait for it up to the request's timeout, or until it waits for input. */
  async execute(request: TargetRequest, command: string, run: RunRequest): Promise<CommandRecord> {
    const deadline = Date.now() + run.timeoutMs;
    const record = await this.start(request, command, run, deadline);
    await record.settle(Math.max(0, deadline - Date.now()), anyOf(run.signal, run.stopWaiting));
    // The caller went away (MCP cancellation): the command goes with it, as Ctrl+C would.
    if (run.signal?.aborted && !record.finished) this.interrupt(record.id);
    if (!record.finished) record.detached = true;
    return record;
  }

  /** Start a command and return as soon as it is under way (execute_command_async). */
  async startDetached(request: TargetRequest, command: string, run: RunRequest): Promise<CommandRecord> {
    const record = await this.start(request, command, run, Date.now() + run.timeoutMs);
    record.detached = true;
    return record;
  }

  private async start(
    request: TargetRequest,
    command: string,
    run: RunRequest,
    deadline: number,
  ): Promise<CommandRecord> {
    const deployment = this.options.deployment;
    const commandId = `cmd-${++this.commandSeq}`;
    const { session, config } = await this.sessionFor(request, run);
    let policy: AuditRecord['policy'] = 'not-checked';
    const prepare = (dialect: Dialect) => {
      if (deployment) policy = deployment.checkCommand(config.policyNames, command, dialect, session.mode);
      return this.executeOptions(session, config, dialect, run, commandId);
    };
    const job = session.start(command, prepare);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
    });
    try {
      const first = await Promise.race([job.started, gaveUp]);
      if (first === 'timeout') {
        if (job.cancel()) {
          const busy = session.current;
          throw new Error(
            `${session.id} is busy${busy ? ` with ${busy.id} (${busy.command})` : ''} and the command did not start within the timeout; it was not sent`,
          );
        }
      }
      const record = await job.started;
      this.commands.add(record);
      record.typing = { host: request.host, policyNames: config.policyNames, pending: '' };
      run.onStart?.(record);
      record.done.then(() => this.audit(request.host, record, policy));
      return record;
    } catch (error) {
      // A session that never got a shell (refused, failed login, undetectable device) is not a session:
      // drop its connection and forget it, so list_sessions stays truthful. Not while another call uses
      // it: a call that gave up waiting behind one still connecting gives up only itself.
      if (!session.everOpened && !session.inUse && this.sessions.get(session.id) === session) {
        void this.close(session);
      }
      const denied = error instanceof CommandDeniedError;
      void deployment?.audit?.write({
        time: new Date().toISOString(),
        host: request.host,
        session: session.id,
        ...(session.dialect && { dialect: session.dialect.name }),
        commandId,
        command,
        policy: denied ? 'denied' : policy,
        ...(denied && { policyRule: error.rule }),
        status: denied ? 'denied' : 'failed',
        error: (error as Error).message,
      });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The open session a request resolves to, or a new one (not yet connected), and which config entries
   * the call reached it by (their policies and secrets apply to this call).
   */
  private async sessionFor(
    request: TargetRequest,
    run: RunRequest,
  ): Promise<{ session: Session; config: HostConfig }> {
    const requestKey = JSON.stringify([
      request.host,
      request.username,
      request.port,
      request.keyFilename,
      request.password,
      request.keyPassphrase,
    ]);
    const known = this.resolved.get(requestKey);
    if (known) return known;
    const closeAllCount = this.closeAllCount;
    const deployment = this.options.deployment;
    const { target, config } = await this.resolveHost(request, run);
    const sessionTarget = {
      id: target.id,
      host: target.host,
      port: target.port,
      username: target.username,
      connect: () =>
        this.pacer.connect(
          target.id,
          () => connect(target, { timeoutMs: this.options.connectTimeoutMs, paths: this.options.sshPaths }),
          Date.now() + this.options.connectTimeoutMs,
        ),
    };
    let dialect: Dialect | undefined;
    if (!this.sessions.has(target.id)) {
      const configured = deployment?.dialectFor(config.name);
      if (run.dialect !== undefined && configured !== undefined && run.dialect !== configured) {
        throw new Error(
          `${config.name} is a ${configured} host in the inventory: the dialect parameter cannot change that (leave it out, or change hosts.${config.name}.dialect)`,
        );
      }
      const name = run.dialect ?? configured ?? this.options.defaultDialect;
      dialect = name === undefined ? undefined : await this.options.dialects.get(name);
    }
    if (this.closeAllCount !== closeAllCount) {
      // Asked for before close_all_sessions, opened after it: it would outlive "close everything".
      throw new Error(
        `session ${target.id} was closed by close_all_sessions before it opened; call again to open a new one`,
      );
    }
    let session = this.sessions.get(target.id);
    if (session) {
      session.target = sessionTarget;
    } else {
      session = new Session(
        sessionTarget,
        dialect,
        this.options.connectTimeoutMs,
        () => this.options.dialects.detectable(),
        this.observerFor(config.name ?? request.host, config.name),
      );
      this.sessions.set(target.id, session);
    }
    const found = { session, config };
    this.resolved.set(requestKey, found);
    return found;
  }

  /**
   * The one place a request (inventory name, ssh-config alias, address, `user@host:port`) becomes a host:
   * the ssh target (id, address, port, user, keys, jump hosts, login secrets) and the config entries it
   * is (its own entry for settings and secrets, every entry whose policy applies). Refuses a host outside
   * the inventory when the config allows only inventory hosts.
   */
  private async resolveHost(
    request: TargetRequest,
    run: Pick<RunRequest, 'askSecret'>,
  ): Promise<{ target: ResolvedTarget; config: HostConfig }> {
    const target = await this.resolve(request);
    const config = await this.hostConfig(request.host, target);
    if (
      this.options.deployment?.inventoryOnly &&
      config.name === undefined &&
      !this.sessions.has(request.host)
    ) {
      throw new Error(
        `"${request.host}" is not in the inventory, and this server only connects to inventory hosts (security.inventory_only); list_hosts shows them`,
      );
    }
    const refused = this.options.deployment?.reachable?.(config.policyNames);
    if (refused !== undefined) throw new CommandDeniedError(`nothing was sent: ${refused}`, '(role)');
    await this.loginSecrets(target, config.name, run);
    return { target, config };
  }

  /**
   * Which config entries a resolved target is: the inventory hosts with the same address and port,
   * whatever name reached it (its address, an ssh-config alias, another spelling). Settings and secrets
   * come from the host's own entry, never from a name whose address or port the call changed.
   */
  private async hostConfig(name: string, target: { host: string; port: number }): Promise<HostConfig> {
    const deployment = this.options.deployment;
    if (!deployment) return { policyNames: [] };
    const addresses = await hostAddresses(target.host);
    const index = await this.inventoryIndex();
    const same = index.filter(
      (e) => e.port === target.port && e.addresses.some((a) => addresses.includes(a)),
    );
    // An inventory name that leads where its entry says is that entry, as the operator wrote it.
    if (same.some((e) => e.name === name)) return { name, policyNames: [name] };
    // Any other way in: every entry for that host applies, and the name used (deny wins).
    const named = deployment.knows(name) ? [name] : [];
    return {
      ...(same[0] && { name: same[0].name }),
      policyNames: [...new Set([...same.map((e) => e.name), ...named])],
    };
  }

  /** Every inventory host with the address and port it resolves to, made once (the config does not change). */
  private inventoryIndex(): Promise<{ name: string; port: number; addresses: string[] }[]> {
    const deployment = this.options.deployment;
    this.index ??= Promise.all(
      (deployment?.names() ?? []).map(async (name) => {
        try {
          const resolved = await this.resolve({ host: name });
          return { name, port: resolved.port, addresses: await hostAddresses(resolved.host) };
        } catch {
          return { name, port: -1, addresses: [] };
        }
      }),
    );
    return this.index;
  }

  /** Who watches a host's shells: the caller's observer, else a transcript when the config asks for one. */
  private observerFor(host: string, configName: string | undefined): (() => ShellObserver) | undefined {
    const observe = this.options.observe?.(host);
    if (observe) return observe;
    const folder = this.options.deployment?.recordFolder(configName);
    if (!folder) return undefined;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const files = transcriptFiles(
      path.join(folder, `${host.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}.transcript.yaml`),
    );
    return () => new TranscriptRecorder(files, { host });
  }

  /**
   * Login password and key passphrase configured for the host reached, when the call brings none; asked
   * for when missing. `configName` is the host's own entry: a name whose address or port the call changed
   * lends its secrets to nobody.
   */
  private async loginSecrets(
    target: ResolvedTarget,
    configName: string | undefined,
    run: Pick<RunRequest, 'askSecret'>,
  ) {
    const deployment = this.options.deployment;
    if (!deployment) return;
    for (const name of ['password', 'key_passphrase'] as const) {
      const field = SECRET_KINDS[name].field;
      const value = await lookupSecret(name, {
        given: target[field],
        config: deployment,
        host: configName,
        whenMissing: 'ask',
        ask: run.askSecret,
      });
      if (value !== undefined) target[field] = value;
    }
  }

  /** Check the call fits the session's dialect, and turn its secrets into a target mode and prompts. */
  private async executeOptions(
    session: Session,
    config: HostConfig,
    dialect: Dialect,
    run: RunRequest,
    commandId: string,
  ): Promise<ExecuteOptions> {
    const host = config.name;
    if (run.dialect !== undefined && run.dialect !== dialect.name) {
      throw new Error(
        `this session speaks the ${dialect.name} dialect; close_session first to reopen it as ${run.dialect}`,
      );
    }
    const secrets: Record<string, string | undefined> = {};
    // Not asked for here: the device's own prompt asks the user (askerFor), only if it comes.
    const secretOf = (name: 'enable' | 'sudo') =>
      lookupSecret(name, {
        given: run.secrets?.[name],
        asked: session.asked,
        config: this.options.deployment,
        host,
        whenMissing: 'leave',
      });
    const options: ExecuteOptions = {
      timeoutMs: run.timeoutMs,
      maxOutputBytes: this.options.output.memoryBytes,
      output: new OutputStore(this.options.output),
      commandId,
      signal: run.signal,
      vars: run.vars,
      secrets,
      ...(run.terminal !== undefined && { terminal: run.terminal }),
      ...(run.askSecret && { askSecret: this.askerFor(session, run.askSecret) }),
    };
    const enableConfigured = this.options.deployment?.configures(host, 'enable') ?? false;
    if (run.privileged || run.enable || (enableConfigured && dialect.privilegedMode !== undefined)) {
      if (dialect.privilegedMode === undefined) {
        throw new Error(
          `the ${dialect.name} dialect has no privileged (enable) mode, so enable_password and enable_command do not apply; leave them out`,
        );
      }
      // Asked for in the call: that mode. Configured for the host: the rights, wherever the device is.
      if (run.privileged) options.mode = dialect.privilegedMode;
      else options.privilege = dialect.privilegedMode;
      // Read (env, file) only when a transition will ask: a device already in that mode needs no secret.
      if (session.mode !== dialect.privilegedMode) secrets.enable = await secretOf('enable');
    }
    if (run.sudo || run.secrets?.sudo !== undefined) {
      const overlay = dialect.withSecret.sudo;
      if (overlay === undefined) {
        throw new Error(`the ${dialect.name} dialect has no sudo; leave sudo_password and use_sudo out`);
      }
      options.overlay = await this.options.dialects.get(overlay);
      secrets.sudo = await secretOf('sudo');
    }
    return options;
  }

  /** Secrets typed by the user are remembered for the session (masked everywhere), so they are asked once. */
  private askerFor(
    session: Session,
    ask: NonNullable<RunRequest['askSecret']>,
  ): (name: string, prompt: string) => Promise<string | undefined> {
    return async (name, prompt) => {
      const secret = name as SecretName;
      const answer = await ask(secret, `the host asked "${prompt}"`);
      if ('unavailable' in answer) return undefined;
      const value = answer.value;
      registerSecret(value, secret);
      session.asked.set(secret, value);
      return value;
    };
  }

  private audit(host: string, record: CommandRecord, policy: AuditRecord['policy']): void {
    const audit = this.options.deployment?.audit;
    if (!audit) return;
    const status = record.status;
    const error = record.error ?? record.outcome?.error ?? record.outcome?.note;
    void audit.write({
      time: new Date().toISOString(),
      host,
      session: record.session,
      dialect: record.dialect,
      commandId: record.id,
      command: record.command,
      policy,
      status: status === 'completed' || status === 'interrupted' || status === 'failed' ? status : 'failed',
      exitCode: record.outcome?.exitCode ?? null,
      durationMs: record.durationMs,
      bytesOut: record.output.totalBytes,
      ...(error !== undefined && { error }),
    });
  }

  /**
   * A configuration operation on a host's session, with the shell to itself: `lines` are checked against
   * the host's policy first (in the dialect's configuration mode; a refusal sends nothing), then `work`
   * drives a ConfigChange. Every operation is audited with the user, host, what it changed and how it ended.
   */
  async configChange<T>(
    request: TargetRequest,
    run: ConfigRunRequest,
    operation: ChangeAudit['operation'] | 'state',
    lines: string[],
    work: (change: ConfigChange) => Promise<T>,
    /** Undefined: the operation changes nothing and is not audited (get_config_state). */
    summarize: ((value: T) => ChangeSummary) | undefined,
  ): Promise<{ value: T; session: string; dialect: string; sessionReset: boolean }> {
    const deployment = this.options.deployment;
    const started = Date.now();
    const { session, config } = await this.sessionFor(request, { timeoutMs: run.stepTimeoutMs, ...run });
    let policy: AuditRecord['policy'] = 'not-checked';
    const audit = (more: Partial<AuditRecord> & { change: ChangeAudit }) =>
      operation !== 'state' &&
      void deployment?.audit?.write({
        time: new Date().toISOString(),
        host: request.host,
        session: session.id,
        user: session.target.username,
        ...(session.dialect && { dialect: session.dialect.name }),
        command: operation,
        policy,
        status: 'completed',
        durationMs: Date.now() - started,
        ...more,
      });
    try {
      const { value, reset } = await session.exclusive(
        (dialect) => {
          const section = configSessionOf(dialect);
          if (run.dialect !== undefined && run.dialect !== dialect.name) {
            throw new Error(
              `this session speaks the ${dialect.name} dialect; close_session first to reopen it as ${run.dialect}`,
            );
          }
          for (const line of lines) {
            if (deployment) policy = deployment.checkCommand(config.policyNames, line, dialect, section.mode);
          }
        },
        async (runner, sessionReset) => {
          const dialect = runner.dialect;
          const section = configSessionOf(dialect);
          const secrets: Record<string, string | undefined> = { ...run.secrets };
          if (dialect.privilegedMode === section.baseMode && runner.mode !== section.baseMode) {
            secrets.enable ??= await lookupSecret('enable', {
              given: undefined,
              asked: session.asked,
              config: deployment,
              host: config.name,
              whenMissing: 'leave',
            });
          }
          const change = new ConfigChange(runner, {
            run: {
              secrets,
              vars: run.vars,
              ...(run.askSecret && { askSecret: this.askerFor(session, run.askSecret) }),
            },
            stepTimeoutMs: run.stepTimeoutMs,
            sessionName: `mcp-${Date.now().toString(36)}-${++this.changeSeq}`,
            lastCheckpoint: this.checkpoints.get(session.id),
          });
          return { value: await work(change), reset: sessionReset };
        },
      );
      if (summarize && operation !== 'state') {
        const summary = summarize(value);
        if (summary.checkpoint && /^(committed|pending_confirm)$/.test(summary.outcome))
          this.checkpoints.set(session.id, summary.checkpoint);
        audit({ change: { operation, ...summary } });
      }
      return {
        value,
        session: session.id,
        dialect: session.dialect?.name ?? '',
        sessionReset: reset,
      };
    } catch (error) {
      const denied = error instanceof CommandDeniedError;
      if (denied) policy = 'denied';
      audit({
        status: denied ? 'denied' : 'failed',
        ...(denied && { policyRule: error.rule }),
        error: (error as Error).message,
        change: {
          operation: operation as ChangeAudit['operation'],
          outcome: denied ? 'denied' : 'failed',
          ...(lines.length > 0 && { lines: lines.map((line) => maskedLine(session.dialect, line)) }),
        },
      });
      throw error;
    }
  }

  command(id: string): CommandRecord | undefined {
    return this.commands.get(id);
  }

  /** Newest first, skipping the `offset` newest. */
  history(limit: number, offset = 0): CommandRecord[] {
    return this.commands.history(limit, offset);
  }

  /** How many commands the history holds. */
  get historySize(): number {
    return this.commands.size;
  }

  running(): CommandRecord[] {
    return this.commands.running();
  }

  /** Ctrl+C to the command with this id, and to no other; false when it is not running. */
  interrupt(id: string): boolean {
    const record = this.commands.get(id);
    if (!record || record.finished) return false;
    return this.sessions.get(record.session)?.interrupt(record) ?? false;
  }

  /**
   * Ctrl+C to the command with this id, then wait until it has ended (at most its dialect's grace and
   * `extraMs` more): the caller gets its final status, not a promise of one.
   */
  async interruptAndWait(id: string, extraMs = 2000): Promise<boolean> {
    const record = this.commands.get(id);
    const session = record && this.sessions.get(record.session);
    if (!record || !session?.interrupt(record)) return false;
    const graceMs = session.dialect?.interrupt.graceMs ?? 0;
    await record.settle(graceMs + extraMs, undefined, true);
    return true;
  }

  /** Type into a running command; false when it is not running. */
  /**
   * Type into a running command, checked against the policy of the call that started it (throws
   * CommandDeniedError, and nothing is typed). False when it is not running. A `secret` is audited as such.
   */
  write(id: string, text: string, secret = false): boolean {
    const record = this.commands.get(id);
    if (!record || record.finished) return false;
    const session = this.sessions.get(record.session);
    if (session?.current !== record) return false;
    const typing = record.typing;
    const deployment = this.options.deployment;
    const dialect = session.dialect;
    let policy: AuditRecord['policy'] = 'not-checked';
    const audited = (status: 'typed' | 'denied', more: Partial<AuditRecord> = {}) =>
      void deployment?.audit?.write({
        time: new Date().toISOString(),
        host: typing?.host ?? record.session,
        session: record.session,
        dialect: record.dialect,
        commandId: record.id,
        command: secret ? '(a secret)' : text,
        policy,
        status,
        ...more,
      });
    if (deployment && typing && dialect) {
      const input = { text, waiting: record.live.waiting, running: record.command, pending: typing.pending };
      try {
        const checked = deployment.checkInput(typing.policyNames, input, dialect, session.mode);
        policy = checked.policy;
        typing.pending = checked.pending;
      } catch (error) {
        if (error instanceof CommandDeniedError) {
          policy = 'denied';
          audited('denied', { policyRule: error.rule, error: error.message });
        }
        throw error;
      }
    }
    if (!session.write(text)) return false;
    audited('typed');
    return true;
  }

  sessionOf(record: CommandRecord): Session | undefined {
    return this.sessions.get(record.session);
  }

  /**
   * The session for a request (opened if needed, as for a command), its SSH connection (for SFTP and
   * side channels, which run next to the shell), and which config entries the call reached it by.
   */
  async connection(request: TargetRequest, run: Pick<RunRequest, 'askSecret'> = {}) {
    const { session, config } = await this.sessionFor(request, { timeoutMs: 0, ...run });
    // File tools use the session too: it is not idle while they do.
    session.lastUsedAt = new Date();
    try {
      return { session, config, client: await session.connection() };
    } catch (error) {
      if (!session.everOpened && !session.inUse && this.sessions.get(session.id) === session) {
        void this.close(session);
      }
      throw error;
    }
  }

  /** The session a host/username/port (or alias, or `user@host:port` id) addresses, if open. */
  async find(request: TargetRequest): Promise<Session | undefined> {
    const direct = this.sessions.get(request.host);
    if (direct) return direct;
    return this.sessions.get((await this.resolve(request)).id);
  }

  /** Through the inventory (when there is a config) and ~/.ssh/config. */
  private resolve(request: TargetRequest) {
    const deployment = this.options.deployment;
    return resolveTarget(
      {
        ...request,
        ...(deployment && {
          lookup: (name: string) => deployment.lookup(name),
          defaults: deployment.defaults,
        }),
      },
      this.options.sshPaths,
    );
  }

  list(): SessionInfo[] {
    return [...this.sessions.values()].map((session) => {
      const { target } = session;
      return {
        id: session.id,
        host: target.host,
        port: target.port,
        username: target.username,
        dialect: session.dialect?.name ?? 'not yet detected',
        ...(session.mode === undefined ? {} : { mode: session.mode }),
        connected: session.connected,
        busy: session.current !== undefined,
        commandCount: session.commandCount,
        createdAt: session.createdAt.toISOString(),
        lastUsedAt: session.lastUsedAt.toISOString(),
      };
    });
  }

  /** Close a session (ending what it started on the host); a new call to its host opens a new one. */
  close(session: Session): Promise<CloseReport> {
    this.sessions.delete(session.id);
    for (const [key, found] of this.resolved) if (found.session === session) this.resolved.delete(key);
    return session.close();
  }

  /** Close every session at once; each report says what could not be done on its host. */
  async closeAll(): Promise<{ id: string; report: CloseReport }[]> {
    this.closeAllCount++;
    this.resolved.clear();
    const sessions = [...this.sessions.values()];
    return Promise.all(sessions.map(async (s) => ({ id: s.id, report: await this.close(s) })));
  }

  /**
   * What must be done before the process exits: spill folders deleted, sessions closed (ending what they
   * started on their hosts), the audit log flushed. Quick, because a client kills a server that is slow
   * to go (the SDK's stdio client: 2 s after closing stdin, 2 more after SIGTERM); the thousands of
   * stores of kept outputs go with the process.
   */
  async closeForExit(): Promise<void> {
    removeSpillFolders();
    await this.closeAll();
    await this.options.deployment?.audit?.close();
  }

  /**
   * Sessions closed and every store disposed (its spill folder with it): for a manager that goes while its
   * process stays, so other managers' spill folders are left alone.
   */
  async dispose(): Promise<void> {
    clearInterval(this.reaper);
    await this.closeAll();
    await this.commands.dispose();
    await this.options.deployment?.audit?.close();
  }
}
