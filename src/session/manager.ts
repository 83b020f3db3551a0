import type { DialectRegistry } from '../dialect/loader.js';
import {
  connect,
  type ResolvedTarget,
  resolveTarget,
  type SshPaths,
  type TargetRequest,
} from '../ssh/index.js';
import { type RunningCommand, Session, type SessionRunResult } from './session.js';

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
}

export interface SessionInfo {
  id: string;
  host: string;
  port: number;
  username: string;
  dialect: string;
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
  /** The newest resolved target per session: a reconnect uses the credentials of the latest call. */
  private readonly targets = new Map<string, ResolvedTarget>();
  private commandSeq = 0;

  constructor(private readonly options: SessionManagerOptions) {}

  async execute(request: TargetRequest, command: string, run: RunRequest): Promise<SessionRunResult> {
    const target = await resolveTarget(request, this.options.sshPaths);
    this.targets.set(target.id, target);
    let session = this.sessions.get(target.id);
    if (!session) {
      const dialect = await this.options.dialects.get(this.options.defaultDialect ?? 'linux');
      session = new Session(
        {
          id: target.id,
          connect: () =>
            connect(this.targets.get(target.id) ?? target, {
              timeoutMs: this.options.connectTimeoutMs,
              paths: this.options.sshPaths,
            }),
        },
        dialect,
        this.options.connectTimeoutMs,
      );
      this.sessions.set(target.id, session);
    }
    const commandId = `cmd-${++this.commandSeq}`;
    try {
      return await session.execute(command, { ...run, commandId });
    } catch (error) {
      // A session that never got a shell is not a session: forget it so list_sessions stays truthful.
      if (!session.connected && session.commandCount === 0 && this.sessions.get(target.id) === session) {
        this.sessions.delete(target.id);
        this.targets.delete(target.id);
      }
      throw error;
    }
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
      const target = this.targets.get(session.id);
      return {
        id: session.id,
        host: target?.host ?? '',
        port: target?.port ?? 0,
        username: target?.username ?? '',
        dialect: session.dialect.name,
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
    this.sessions.delete(session.id);
    this.targets.delete(session.id);
  }

  closeAll(): string[] {
    const ids = [...this.sessions.keys()];
    for (const session of [...this.sessions.values()]) this.close(session);
    return ids;
  }
}
