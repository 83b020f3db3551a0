import type { Dialect } from '../dialect/dialect.js';
import type { DialectRegistry } from '../dialect/loader.js';
import { connect, resolveTarget, type SshPaths, type TargetRequest } from '../ssh/index.js';
import { type ExecuteOptions, type RunningCommand, Session, type SessionRunResult } from './session.js';

export interface SessionManagerOptions {
  dialects: DialectRegistry;
  /** Bounds TCP connect, handshake and authentication together, across jump hosts. */
  connectTimeoutMs: number;
  sshPaths?: SshPaths;
  defaultDialect?: string;
}

export interface RunRequest {
  timeoutMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal;
  /** Dialect for a new session; an open session keeps the one it was opened with. */
  dialect?: string;
  /** Named secrets for this call (enable, sudo); they decide the mode and prompts the call needs. */
  secrets?: Record<string, string | undefined>;
  /** Template values, e.g. enable_command. */
  vars?: Record<string, string | undefined>;
  /** Run in the dialect's privileged mode (enable). */
  privileged?: boolean;
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

export interface ActiveCommand extends RunningCommand {
  session: string;
}

/** All sessions of this server, keyed by user@host:port. */
export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  /**
   * Requests already resolved to an open session. Resolving reads ~/.ssh/config and its includes, which
   * costs more than running `echo hi` on a warm session, so a repeated request skips it.
   */
  private readonly resolved = new Map<string, string>();
  private commandSeq = 0;

  constructor(private readonly options: SessionManagerOptions) {}

  async execute(request: TargetRequest, command: string, run: RunRequest): Promise<SessionRunResult> {
    const commandId = `cmd-${++this.commandSeq}`;
    const requestKey = JSON.stringify([
      request.host,
      request.username,
      request.port,
      request.keyFilename,
      request.password,
      request.keyPassphrase,
    ]);
    const prepare = (dialect: Dialect) => this.executeOptions(dialect, run, commandId);
    const known = this.sessions.get(this.resolved.get(requestKey) ?? '');
    if (known) return known.execute(command, prepare);

    const target = await resolveTarget(request, this.options.sshPaths);
    const sessionTarget = {
      id: target.id,
      host: target.host,
      port: target.port,
      username: target.username,
      connect: () =>
        connect(target, { timeoutMs: this.options.connectTimeoutMs, paths: this.options.sshPaths }),
    };
    let session = this.sessions.get(target.id);
    if (session) {
      session.target = sessionTarget;
    } else {
      const name = run.dialect ?? this.options.defaultDialect;
      const dialect = name === undefined ? undefined : await this.options.dialects.get(name);
      session = new Session(sessionTarget, dialect, this.options.connectTimeoutMs, () =>
        this.options.dialects.detectable(),
      );
      this.sessions.set(target.id, session);
    }
    this.resolved.set(requestKey, target.id);
    try {
      return await session.execute(command, prepare);
    } catch (error) {
      // A session that never got a shell (refused, failed login, undetectable device) is not a session:
      // drop its connection and forget it, so list_sessions stays truthful.
      if (!session.everOpened && this.sessions.get(target.id) === session) this.close(session);
      throw error;
    }
  }

  /** Check the call fits the session's dialect, and turn its secrets into a target mode and prompts. */
  private async executeOptions(
    dialect: Dialect,
    run: RunRequest,
    commandId: string,
  ): Promise<ExecuteOptions> {
    if (run.dialect !== undefined && run.dialect !== dialect.name) {
      throw new Error(
        `this session speaks the ${dialect.name} dialect; close_session first to reopen it as ${run.dialect}`,
      );
    }
    const options: ExecuteOptions = { ...run, commandId };
    if (run.privileged) {
      if (dialect.privilegedMode === undefined) {
        throw new Error(
          `the ${dialect.name} dialect has no privileged (enable) mode, so enable_password and enable_command do not apply; leave them out`,
        );
      }
      options.mode = dialect.privilegedMode;
    }
    for (const [secret, value] of Object.entries(run.secrets ?? {})) {
      if (value === undefined) continue;
      const overlay = dialect.withSecret[secret];
      if (overlay !== undefined) options.overlay = await this.options.dialects.get(overlay);
      else if (!dialect.transitions.some((t) => t.expect.some((e) => e.secret === secret))) {
        throw new Error(`the ${dialect.name} dialect has no use for a ${secret} secret; leave it out`);
      }
    }
    return options;
  }

  /** The session a host/username/port (or alias, or `user@host:port` id) addresses, if open. */
  async find(request: TargetRequest): Promise<Session | undefined> {
    const direct = this.sessions.get(request.host);
    if (direct) return direct;
    const target = await resolveTarget(request, this.options.sshPaths);
    return this.sessions.get(target.id);
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
        busy: session.running !== undefined,
        commandCount: session.commandCount,
        createdAt: session.createdAt.toISOString(),
        lastUsedAt: session.lastUsedAt.toISOString(),
      };
    });
  }

  activeCommands(): ActiveCommand[] {
    const commands: ActiveCommand[] = [];
    for (const session of this.sessions.values()) {
      if (session.running) commands.push({ ...session.running, session: session.id });
    }
    return commands;
  }

  close(session: Session): void {
    session.close();
    this.forget(session.id);
  }

  private forget(id: string): void {
    this.sessions.delete(id);
    for (const [key, sessionId] of this.resolved) if (sessionId === id) this.resolved.delete(key);
  }

  closeAll(): string[] {
    const ids = [...this.sessions.keys()];
    for (const session of [...this.sessions.values()]) this.close(session);
    return ids;
  }
}
