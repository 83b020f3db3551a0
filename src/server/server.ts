import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { DialectRegistry } from '../dialect/loader.js';
import { SessionManager } from '../session/manager.js';
import type { SshPaths } from '../ssh/index.js';
import { DEFAULT_LIMITS, type ServerLimits } from './limits.js';
import { registerTools } from './tools.js';
import { VERSION } from './version.js';

export interface ServerOptions {
  limits?: Partial<ServerLimits>;
  sshPaths?: SshPaths;
  dialectDirs?: string[];
}

export function createServer(options: ServerOptions = {}): { server: McpServer; manager: SessionManager } {
  // Unset values keep their defaults instead of overwriting them with undefined.
  const given = Object.entries(options.limits ?? {}).filter(([, value]) => value !== undefined);
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...Object.fromEntries(given) };
  const manager = new SessionManager({
    dialects: new DialectRegistry(options.dialectDirs),
    connectTimeoutMs: limits.connectTimeoutMs,
    sshPaths: options.sshPaths,
  });
  const server = new McpServer(
    { name: 'mcp-ssh-session', version: VERSION },
    { capabilities: { tools: {} } },
  );
  registerTools(server, manager, limits);
  return { server, manager };
}
