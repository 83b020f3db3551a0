import { ConfigError } from '../../config/errors.js';
import { compileRoles, RoleError } from '../../config/roles.js';
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
  let roles: ReturnType<typeof compileRoles>;
  try {
    roles = compileRoles(config);
  } catch (error) {
    if (error instanceof RoleError) throw new ConfigError(error.message);
    throw error;
  }
  for (const [name, role] of Object.entries(config.config.roles ?? {})) {
    if (!role.tools) continue;
    try {
      selectTools({ names: role.tools });
      narrowTools(base, [{ names: role.tools, readOnly: role.read_only === true }], `role ${name}`);
    } catch (error) {
      if (!(error instanceof ToolsetError)) throw error;
      throw new ConfigError(`invalid config file ${config.file}: roles.${name}.tools: ${error.message}`);
    }
  }
  return roles;
}
