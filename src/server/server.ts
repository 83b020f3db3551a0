import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { deploymentOf } from '../config/deployment.js';
import { ConfigError } from '../config/errors.js';
import { resolveLimits, type ServerLimits } from '../config/limits.js';
import type { LoadedConfig } from '../config/load.js';
import { DialectRegistry, defaultDialectDirs } from '../dialect/loader.js';
import { SessionManager, type SessionManagerOptions } from '../session/manager.js';
import { DEFAULT_RETENTION } from '../session/registry.js';
import type { SshPaths } from '../ssh/index.js';
import { type MessageCheck, offeredMethods, requestCheck } from './request-check.js';
import { SecretPrompter } from './secret-prompt.js';
import { recordToolInputs } from './tool-inputs.js';
import { leanToolList } from './tool-list.js';
import { setResultBudget } from './tool-result.js';
import { registerCommandTools } from './tools/commands.js';
import { registerConfigTools } from './tools/config.js';
import { registerDialectTools } from './tools/dialects.js';
import { registerFileTools } from './tools/files.js';
import { registerFleetTools } from './tools/fleet.js';
import { registerHostTools } from './tools/hosts.js';
import { registerSessionTools } from './tools/sessions.js';
import { offerOnly, selectTools, type ToolSelection, ToolsetError } from './toolsets.js';
import { VERSION } from './version.js';

export interface ServerOptions {
  /** Beat the config file's limits (the CLI passes flags and environment here). */
  limits?: Partial<ServerLimits>;
  sshPaths?: SshPaths;
  /** Extra dialect folders, after the built-ins and the config's; MCP_SSH_DIALECT_PATH folders come last. */
  dialectDirs?: string[];
  config?: LoadedConfig;
  /** The tools offered; default: the config's `tools` and `security.read_only`, else the default sets. */
  tools?: ToolSelection;
  /**
   * The sessions this server works on, when they outlive it: over HTTP each MCP session gets a server of
   * its own, and all of one user's servers share that user's sessions.
   */
  sessions?: ManagedSessions;
}

/** A session manager with the limits and dialects it was made with. */
export interface ManagedSessions {
  manager: SessionManager;
  limits: ServerLimits;
  dialects: DialectRegistry;
}

/**
 * The tools a server made with these options offers: `tools`, else the config's choice (read-only also
 * when `readOnly`). A name the config gets wrong is a ConfigError naming the file.
 */
export function toolSelectionOf(options: ServerOptions, readOnly = false): ToolSelection {
  if (options.tools) return options.tools;
  const config = options.config;
  try {
    return selectTools({ ...config?.tools, readOnly: readOnly || (config?.tools.readOnly ?? false) });
  } catch (error) {
    if (!(error instanceof ToolsetError) || !config) throw error;
    throw new ConfigError(`invalid config file ${config.file}: tools: ${error.message}`);
  }
}

/** The dialects a server reads: built-ins, the config's folders, the options', MCP_SSH_DIALECT_PATH. */
export function createDialects(options: Pick<ServerOptions, 'config' | 'dialectDirs'>): DialectRegistry {
  return new DialectRegistry(
    defaultDialectDirs([...(options.config?.dialectPaths ?? []), ...(options.dialectDirs ?? [])]),
  );
}

/** The limits a server works with: the config's, beaten by the options' (flags and environment). */
export function serverLimits(options: Pick<ServerOptions, 'config' | 'limits'>): ServerLimits {
  const config = options.config;
  const http = config?.config.http;
  // Limits written under `files:` and `http:` in the config file are limits too.
  return resolveLimits(
    {
      ...config?.limits,
      maxReadBytes: config?.files.maxReadBytes,
      maxTransferBytes: config?.files.maxTransferBytes,
      httpMaxRequestBytes: http?.max_request_bytes,
      httpMaxRequestsPerUser: http?.max_requests_per_user,
      httpMaxSessionsPerUser: http?.max_sessions_per_user,
      httpShutdownGraceMs: http?.shutdown_grace === undefined ? undefined : http.shutdown_grace * 1000,
    },
    options.limits,
  );
}

/** The session manager a server (or a command-line tool) works with, and the limits it was made with. */
export function createManager(
  options: ServerOptions &
    Pick<SessionManagerOptions, 'observe' | 'deployment' | 'pacer'> & { dialects?: DialectRegistry } = {},
): ManagedSessions {
  const config = options.config;
  const limits = serverLimits(options);
  const dialects = options.dialects ?? createDialects(options);
  const deployment = options.deployment ?? (config && deploymentOf(config));
  const manager = new SessionManager({
    dialects,
    connectTimeoutMs: limits.connectTimeoutMs,
    sshPaths: options.sshPaths,
    output: { memoryBytes: limits.maxOutputBytes, spillBytes: limits.maxSpillBytes },
    retention: {
      memoryBytes: limits.maxTotalOutputMemory,
      diskBytes: limits.maxTotalOutputDisk,
      unreadMs: limits.keepUnreadMs,
      readMs: limits.keepReadMs,
      historyMax: DEFAULT_RETENTION.historyMax,
    },
    maxConnecting: limits.maxConnecting,
    ...(options.pacer && { pacer: options.pacer }),
    idleTimeoutMs: limits.idleTimeoutMs,
    ...(deployment && { deployment }),
    ...(options.observe && { observe: options.observe }),
  });
  return { manager, limits, dialects };
}

/** What the server declares; the methods it answers follow from it (request-check.ts). */
export const SERVER_CAPABILITIES = { tools: {}, resources: {} };

export function createServer(options: ServerOptions = {}): {
  server: McpServer;
  manager: SessionManager;
  prompter: SecretPrompter;
  /** For the transport: answers bad params and tool arguments with a clear message (request-check.ts). */
  check: MessageCheck;
} {
  const config = options.config;
  const tools = toolSelectionOf(options);
  const { manager, limits, dialects } = options.sessions ?? createManager(options);
  // Tools are declared by the first tool registered, so that tools/list is made after leanToolList.
  const { tools: _declaredByFirstTool, ...others } = SERVER_CAPABILITIES;
  const server = new McpServer({ name: 'mcp-ssh-session', version: VERSION }, { capabilities: others });
  const prompter = new SecretPrompter(server.server);
  const lean = leanToolList(server);
  const inputs = recordToolInputs(server);
  offerOnly(server, tools);
  setResultBudget(server, limits.maxResultBytes);
  // One file per group of tools under tools/, each tool beside its handler; the selection picks which
  // of them are offered (toolsets.ts).
  registerCommandTools(server, manager, limits, prompter);
  registerSessionTools(server, manager);
  registerHostTools(server, config, options.sshPaths);
  registerDialectTools(server, dialects);
  registerFileTools(server, manager, prompter, limits, config);
  registerConfigTools(server, manager, prompter, config?.configChanges);
  registerFleetTools(server, manager, limits, config);
  if (!lean.installed()) throw new Error('tools/list was set up before leanToolList (tool-list.ts)');
  return {
    server,
    manager,
    prompter,
    check: requestCheck(inputs, offeredMethods(SERVER_CAPABILITIES), tools.whyHidden),
  };
}
