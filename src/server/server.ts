import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { deploymentOf } from '../config/deployment.js';
import { resolveLimits, type ServerLimits } from '../config/limits.js';
import type { LoadedConfig } from '../config/load.js';
import { DialectRegistry, defaultDialectDirs } from '../dialect/loader.js';
import { SessionManager, type SessionManagerOptions } from '../session/manager.js';
import { DEFAULT_RETENTION } from '../session/registry.js';
import type { SshPaths } from '../ssh/index.js';
import { type MessageCheck, offeredMethods, requestCheck } from './request-check.js';
import { SecretPrompter } from './secret-prompt.js';
import { recordToolInputs } from './tool-inputs.js';
import { setResultBudget } from './tool-result.js';
import { registerCommandTools } from './tools/commands.js';
import { registerDialectTools } from './tools/dialects.js';
import { registerFileTools } from './tools/files.js';
import { registerHostTools } from './tools/hosts.js';
import { registerSessionTools } from './tools/sessions.js';
import { VERSION } from './version.js';

export interface ServerOptions {
  /** Beat the config file's limits (the CLI passes flags and environment here). */
  limits?: Partial<ServerLimits>;
  sshPaths?: SshPaths;
  /** Extra dialect folders, after the built-ins and the config's; MCP_SSH_DIALECT_PATH folders come last. */
  dialectDirs?: string[];
  config?: LoadedConfig;
}

/** The session manager a server (or a command-line tool) works with, and the limits it was made with. */
export function createManager(options: ServerOptions & Pick<SessionManagerOptions, 'observe'> = {}): {
  manager: SessionManager;
  limits: ServerLimits;
  dialects: DialectRegistry;
} {
  const config = options.config;
  // The config's files.max_read_bytes / max_transfer_bytes are limits too, written under `files:`.
  const limits = resolveLimits(
    {
      ...config?.limits,
      maxReadBytes: config?.files.maxReadBytes,
      maxTransferBytes: config?.files.maxTransferBytes,
    },
    options.limits,
  );
  const dialects = new DialectRegistry(
    defaultDialectDirs([...(config?.dialectPaths ?? []), ...(options.dialectDirs ?? [])]),
  );
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
    ...(config && { deployment: deploymentOf(config) }),
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
  const { manager, limits, dialects } = createManager(options);
  const server = new McpServer(
    { name: 'mcp-ssh-session', version: VERSION },
    { capabilities: SERVER_CAPABILITIES },
  );
  const prompter = new SecretPrompter(server.server);
  const inputs = recordToolInputs(server);
  setResultBudget(server, limits.maxResultBytes);
  // One file per group of tools under tools/, each tool beside its handler.
  registerCommandTools(server, manager, limits, prompter);
  registerSessionTools(server, manager);
  registerHostTools(server, config, options.sshPaths);
  registerDialectTools(server, dialects);
  registerFileTools(server, manager, prompter, limits, config);
  return { server, manager, prompter, check: requestCheck(inputs, offeredMethods(SERVER_CAPABILITIES)) };
}
