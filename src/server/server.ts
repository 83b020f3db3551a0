import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { DialectRegistry, defaultDialectDirs } from '../dialect/loader.js';
import { SessionManager } from '../session/manager.js';
import type { SshPaths } from '../ssh/index.js';
import { registerDialectTools } from './dialect-tools.js';
import { DEFAULT_LIMITS, type ServerLimits } from './limits.js';
import { registerTools } from './tools.js';
import { VERSION } from './version.js';

export interface ServerOptions {
  limits?: Partial<ServerLimits>;
  sshPaths?: SshPaths;
  /** Extra dialect folders, after the built-ins; MCP_SSH_DIALECT_PATH folders come after these. */
  dialectDirs?: string[];
}

export function createServer(options: ServerOptions = {}): { server: McpServer; manager: SessionManager } {
  // Unset values keep their defaults instead of overwriting them with undefined.
  const given = Object.entries(options.limits ?? {}).filter(([, value]) => value !== undefined);
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...Object.fromEntries(given) };
  const dialects = new DialectRegistry(defaultDialectDirs(options.dialectDirs));
  const manager = new SessionManager({
    dialects,
    connectTimeoutMs: limits.connectTimeoutMs,
    sshPaths: options.sshPaths,
  });
  const server = new McpServer(
    { name: 'mcp-ssh-session', version: VERSION },
    { capabilities: { tools: {}, resources: {} } },
  );
  registerTools(server, manager, limits);
  registerDialectTools(server, dialects);
  return { server, manager };
}
