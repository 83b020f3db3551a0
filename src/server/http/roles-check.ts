import { ConfigError } from '../../config/errors.js';
import { compileRoles } from '../../config/roles.js';
import { type ServerOptions, toolSelectionOf } from '../server.js';
import { narrowTools, selectTools, ToolsetError } from '../toolsets.js';

// Apart from app.ts so that check-config and the stdio server need not load express to check roles.

/**
 * The roles compiled (hosts resolved against the inventory). A role naming a group or tool set that does
 * not exist fails at start (and in check-config), with the role's name, not at a user's call.
 */
export function checkRoles(options: ServerOptions, base = toolSelectionOf(options)) {
  const config = options.config;
  if (!config) return new Map<string, never>();
  const roles = compileRoles(config);
  for (const [name, role] of Object.entries(config.config.roles ?? {})) {
    // Every role, also one with only read_only: it may leave nothing of a server that offers only tools
    // that change things.
    try {
      if (role.tools) selectTools({ names: role.tools });
      narrowTools(base, [{ names: role.tools, readOnly: role.read_only === true }], `role ${name}`);
    } catch (error) {
      if (!(error instanceof ToolsetError)) throw error;
      const field = role.tools ? `roles.${name}.tools` : `roles.${name}`;
      throw new ConfigError(`invalid config file ${config.file}: ${field}: ${error.message}`);
    }
  }
  return roles;
}
